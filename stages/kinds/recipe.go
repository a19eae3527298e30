package kinds

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/zclconf/go-cty/cty"
	ctyjson "github.com/zclconf/go-cty/cty/json"

	"github.com/modulo-ml/modulo/artifacts"
	"github.com/modulo-ml/modulo/nn"
	"github.com/modulo-ml/modulo/stages"
)

// Recipe is the artifact type of training recipes: a train node's configuration and the
// dataset it trained on, so that a prune node can train the same run again with masks
// (same model, optimiser, schedule, seeds and data order) without the pipeline repeating
// the train block.
var Recipe = stages.ArtifactType("recipe", "application/vnd.modulo.recipe+json")

// recipeDoc is a recipe artifact's content. Config is the train block's configuration as
// typed cty JSON, without data (Data holds its OutputID) and without attributes that do
// not enter the key (threads).
type recipeDoc struct {
	Data   artifacts.OutputID `json:"data"`
	Type   json.RawMessage    `json:"type"`
	Config json.RawMessage    `json:"config"`
	// Numerics is the revision of the kernels the run trained with (nn.NumericsOf), so that
	// a prune node of a conv net is keyed again when they change; none for an MLP, whose
	// recipe keeps its bytes.
	Numerics string `json:"numerics,omitempty"`
	recipeSteps
}

// recipeSteps is the run's length and where its checkpoints are, in steps.
type recipeSteps struct {
	StepsPerEpoch int   `json:"steps_per_epoch"`
	Steps         int   `json:"steps"`
	Checkpoints   []int `json:"checkpoints"` // steps of the checkpoints output, in its order
}

// recipeMeta is a recipe's manifest description: what a prune node checks at plan time.
type recipeMeta struct {
	Arch string `json:"arch"`
	recipeSteps
}

// encodeRecipe stores the train configuration cfg, which trained on the dataset ref data.
func encodeRecipe(cfg cty.Value, data *stages.Ref, tc nn.TrainConfig, spe int) (stages.Artifact, error) {
	attrs := map[string]cty.Value{}
	for name, v := range cfg.AsValueMap() {
		if name != "data" && name != "threads" {
			attrs[name] = v
		}
	}
	// Attributes added since recipes were first written stay out while null, so the
	// recipe of an MLP run keeps its bytes (and recipeConfig puts them back).
	obj := trainKind().Schema.WithoutNewNulls(cty.ObjectVal(attrs))
	tj, err := ctyjson.MarshalType(obj.Type())
	if err != nil {
		return stages.Artifact{}, err
	}
	vj, err := ctyjson.Marshal(obj, obj.Type())
	if err != nil {
		return stages.Artifact{}, err
	}
	steps := recipeSteps{StepsPerEpoch: spe, Steps: spe * tc.Epochs, Checkpoints: tc.Checkpoints}
	if steps.Checkpoints == nil {
		steps.Checkpoints = []int{}
	}
	b, err := json.Marshal(recipeDoc{Data: data.ID, Type: tj, Config: vj, Numerics: nn.NumericsOf(tc.Arch.Kind), recipeSteps: steps})
	if err != nil {
		return stages.Artifact{}, err
	}
	meta, err := json.Marshal(recipeMeta{Arch: tc.Arch.String(), recipeSteps: steps})
	return stages.Artifact{Data: b, Codec: artifacts.Raw, Meta: string(meta)}, err
}

// decodeRecipe reads a recipe artifact back into the train configuration it describes.
func decodeRecipe(b []byte) (*recipeDoc, *trainConfig, error) {
	var doc recipeDoc
	if err := json.Unmarshal(b, &doc); err != nil {
		return nil, nil, fmt.Errorf("reading a training recipe: %v", err)
	}
	t, err := ctyjson.UnmarshalType(doc.Type)
	if err != nil {
		return nil, nil, fmt.Errorf("reading a training recipe's configuration type: %v", err)
	}
	v, err := ctyjson.Unmarshal(doc.Config, t)
	if err != nil {
		return nil, nil, fmt.Errorf("reading a training recipe's configuration: %v", err)
	}
	if !t.IsObjectType() || !t.HasAttribute("model") || !t.HasAttribute("optimizer") || doc.StepsPerEpoch < 1 {
		return nil, nil, fmt.Errorf("a training recipe without a model, an optimizer or steps per epoch")
	}
	c, err := recipeConfig(v)
	if err != nil {
		return nil, nil, err
	}
	return &doc, c, nil
}

// trainKind is the registered train kind, whose schema says which attributes are newer
// than the recipes stored.
func trainKind() *stages.Kind {
	k, _ := stages.Default.Lookup("train")
	return k
}

// recipeConfig decodes a recipe's configuration into a train block's, with the attributes a
// recipe leaves out (data, threads) put back as null and 0.
func recipeConfig(v cty.Value) (*trainConfig, error) {
	attrs := v.AsValueMap()
	attrs["data"] = cty.NullVal(Dataset)
	attrs["threads"] = cty.Zero
	var c trainConfig
	if err := stages.DecodeValue(trainKind().Schema.WithNewNulls(cty.ObjectVal(attrs)), &c); err != nil {
		return nil, fmt.Errorf("reading a training recipe's configuration: %v", err)
	}
	return &c, nil
}

// recipeMetaOf reads the plan-time description of the recipe of a prune node's train node
// (attribute from): stored, or expected from the train block's configuration; ok is false
// when it is not known.
func recipeMetaOf(p *stages.Planned) (m recipeMeta, ok bool) {
	metas := p.MetasAt(cty.GetAttrPath("from").GetAttr("recipe"))
	if len(metas) != 1 || !strings.HasPrefix(metas[0], "{") || json.Unmarshal([]byte(metas[0]), &m) != nil || m.StepsPerEpoch < 1 {
		return m, false
	}
	return m, true
}

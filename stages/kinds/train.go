package kinds

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/zclconf/go-cty/cty"

	"github.com/modulo-ml/modulo/artifacts"
	"github.com/modulo-ml/modulo/internal/bytesize"
	"github.com/modulo-ml/modulo/nn"
	"github.com/modulo-ml/modulo/nn/blas"
	"github.com/modulo-ml/modulo/nn/data"
	"github.com/modulo-ml/modulo/stages"
)

// Network is the artifact type of trained networks: safetensors with the architecture in
// the metadata, so PyTorch opens them with safetensors.torch.load_file.
var Network = stages.ArtifactType("network", "application/vnd.modulo.network+safetensors")

// shuffle4 stores dense float32 tensors: byte-shuffling first gains ~15% under zstd.
const shuffle4 = artifacts.Shuffle4

// metricsType is one row of a run's per-epoch metrics.
var metricsType = cty.Object(map[string]cty.Type{
	"epoch": cty.Number, "step": cty.Number, "lr": cty.Number,
	"train_loss": cty.Number, "train_accuracy": cty.Number,
	"test_loss": cty.Number, "test_accuracy": cty.Number,
})

var modelSchema = stages.Schema{Attributes: []stages.Attribute{
	{Name: "kind", Type: cty.String, Default: cty.StringVal("mlp"), Doc: "mlp, vgg (open_lth's cifar_vgg) or resnet (open_lth's cifar_resnet)", Check: stages.OneOf(nn.Kinds...)},
	{Name: "hidden", Type: cty.List(cty.Number), Doc: "mlp: hidden widths, e.g. [512, 512, 512]", Check: stages.Items(0, maxLayers, stages.Int(1, maxWidth))},
	{Name: "activation", Type: cty.String, Default: cty.StringVal("relu"), Doc: "relu, gelu or tanh (vgg and resnet: relu)", Check: stages.OneOf(nn.Activations...)},
	{Name: "layer_norm", Type: cty.Bool, Default: cty.False, Doc: "mlp: LayerNorm after each hidden layer"},
	{Name: "bias", Type: cty.Bool, Default: cty.True, Doc: "mlp: linear layers have biases (VGG's convolutions have them, ResNet's do not, as in open_lth)"},
	{Name: "norm", Type: cty.String, NullNotInKey: true, Doc: "vgg and resnet: layer_norm (LayerNorm over the channels at each position, the default) or none", Check: stages.OneOf("layer_norm", "none")},
	{Name: "plan", Type: cty.DynamicPseudoType, NullNotInKey: true, Doc: `vgg: "vgg11", "vgg13", "vgg16" (the default) or "vgg19", or a list as open_lth writes it for width 64, such as [64, "M", 128, "M", 256]: numbers are convolutions' widths, "M" a 2×2 max-pool`, Check: planCheck},
	{Name: "width", Type: cty.Number, NullNotInKey: true, Doc: "vgg and resnet: open_lth's W, the first convolution's channels (vgg 64, resnet 16 by default); a vgg plan is scaled by width/64", Check: stages.Int(1, maxWidth)},
	{Name: "depth", Type: cty.Number, NullNotInKey: true, Doc: "resnet: layers, 6n+2 for n blocks per stage (20 by default: ResNet-20)", Check: stages.Int(8, 6*1000+2)},
}}

// vggPlans are open_lth's cifar_vgg plans for width 64 (PlanPool is "M").
var vggPlans = map[string][]int{
	"vgg11": {64, nn.PlanPool, 128, nn.PlanPool, 256, 256, nn.PlanPool, 512, 512, nn.PlanPool, 512, 512},
	"vgg13": {64, 64, nn.PlanPool, 128, 128, nn.PlanPool, 256, 256, nn.PlanPool, 512, 512, nn.PlanPool, 512, 512},
	"vgg16": {64, 64, nn.PlanPool, 128, 128, nn.PlanPool, 256, 256, 256, nn.PlanPool, 512, 512, 512, nn.PlanPool, 512, 512, 512},
	"vgg19": {64, 64, nn.PlanPool, 128, 128, nn.PlanPool, 256, 256, 256, 256, nn.PlanPool, 512, 512, 512, 512, nn.PlanPool, 512, 512, 512, 512},
}

// planCheck accepts a named VGG plan or a list of widths and "M".
var planCheck = stages.Func(`"vgg16" or a list of widths and "M"`, func(v cty.Value) error {
	if _, err := parsePlan(v); err != nil {
		return fmt.Errorf("is not a plan: %v", err)
	}
	return nil
})

// parsePlan reads a plan attribute (not null) at width 64: a name of vggPlans, or a list
// (or tuple) of positive whole numbers and "M".
func parsePlan(v cty.Value) ([]int, error) {
	if !v.IsWhollyKnown() {
		return nil, nil
	}
	t := v.Type()
	if t == cty.String {
		if p, ok := vggPlans[v.AsString()]; ok {
			return p, nil
		}
		return nil, fmt.Errorf("unknown plan %q; the named plans are vgg11, vgg13, vgg16 and vgg19, or write a list such as [64, \"M\", 128]", v.AsString())
	}
	if !(t.IsListType() || t.IsTupleType()) || v.LengthInt() == 0 {
		return nil, fmt.Errorf(`plan must be a named plan such as "vgg16" or a non-empty list of widths and "M", such as [64, "M", 128]`)
	}
	if v.LengthInt() > maxLayers {
		return nil, fmt.Errorf("plan has %d entries; at most %d", v.LengthInt(), maxLayers)
	}
	var plan []int
	for i, e := range v.AsValueSlice() {
		switch {
		case e.IsNull():
			return nil, fmt.Errorf("plan entry %d is null", i)
		case e.Type() == cty.String && e.AsString() == "M":
			plan = append(plan, nn.PlanPool)
			continue
		case e.Type() == cty.String:
			n, err := strconv.Atoi(e.AsString())
			if err != nil || n < 1 || n > maxWidth {
				return nil, fmt.Errorf(`plan entry %d is %q; entries are widths (whole numbers from 1 to %d) or "M" for a max-pool`, i, e.AsString(), maxWidth)
			}
			plan = append(plan, n)
		case e.Type() == cty.Number:
			f := e.AsBigFloat()
			n, acc := f.Int64()
			if !f.IsInt() || acc != 0 || n < 1 || n > maxWidth {
				return nil, fmt.Errorf(`plan entry %d is %s; entries are widths (whole numbers from 1 to %d) or "M" for a max-pool`, i, f.Text('g', -1), maxWidth)
			}
			plan = append(plan, int(n))
		default:
			return nil, fmt.Errorf(`plan entry %d is a %s; entries are widths or "M"`, i, e.Type().FriendlyName())
		}
	}
	return plan, nil
}

// maxLayers and maxWidth bound a model far beyond what trains on one machine, so that a slip
// (a width of 1e9) is refused with its memory estimate instead of exhausting the machine.
const (
	maxLayers = 256
	maxWidth  = 1 << 20
)

var optimizerSchema = stages.Schema{Attributes: []stages.Attribute{
	{Name: "kind", Type: cty.String, Default: cty.StringVal("sgd"), Doc: "sgd, adam or adamw", Check: stages.OneOf("sgd", "adam", "adamw")},
	{Name: "lr", Type: cty.Number, Required: true, Check: stages.Positive()},
	{Name: "momentum", Type: cty.Number, Default: cty.Zero, Check: stages.Range(0, 1, false, true)},
	{Name: "nesterov", Type: cty.Bool, Default: cty.False},
	{Name: "weight_decay", Type: cty.Number, Default: cty.Zero, Check: stages.AtLeast(0)},
	{Name: "warmup", Type: cty.String, Default: cty.StringVal("0"), Doc: `steps ("500") or epochs ("1ep")`, Check: durationCheck},
	{Name: "schedule", Type: cty.String, Default: cty.StringVal("constant"), Doc: "constant, step, cosine or linear", Check: stages.OneOf(nn.Schedules...)},
	{Name: "milestones", Type: cty.List(cty.String), Default: cty.ListValEmpty(cty.String), Doc: "step schedule: when to multiply by gamma", Check: stages.Items(0, 1000, durationCheck)},
	{Name: "gamma", Type: cty.Number, Default: cty.NumberFloatVal(0.1), Check: stages.Positive()},
	{Name: "beta1", Type: cty.Number, Default: cty.NumberFloatVal(0.9), Check: stages.Range(0, 1, false, true)},
	{Name: "beta2", Type: cty.Number, Default: cty.NumberFloatVal(0.999), Check: stages.Range(0, 1, false, true)},
	{Name: "eps", Type: cty.Number, Default: cty.NumberFloatVal(1e-8), Check: stages.Positive()},
}}

// durationCheck accepts a count of steps ("500") or epochs ("2ep").
var durationCheck = stages.Func(`a step count ("500") or a number of epochs ("2ep")`, func(v cty.Value) error {
	if _, err := ParseDuration(v.AsString()); err != nil {
		return fmt.Errorf("must be a step count (\"500\") or a number of epochs (\"2ep\"), got %q", v.AsString())
	}
	return nil
})

// trainConfig is a train block's configuration.
type trainConfig struct {
	Data              *stages.Ref     `cty:"data"`
	Seed              uint64          `cty:"seed"`
	DataOrderSeed     *uint64         `cty:"data_order_seed"`
	Epochs            int             `cty:"epochs"`
	BatchSize         int             `cty:"batch_size"`
	Init              string          `cty:"init"`
	Checkpoints       []string        `cty:"checkpoints"`
	EvalTrainExamples int             `cty:"eval_train_examples"`
	Threads           int             `cty:"threads"`
	RandomCrop        *int            `cty:"random_crop"`
	RandomFlip        *bool           `cty:"random_flip"`
	Model             modelConfig     `cty:"model"`
	Optimizer         optimizerConfig `cty:"optimizer"`
}

type modelConfig struct {
	Kind       string    `cty:"kind"`
	Hidden     []int     `cty:"hidden"`
	Activation string    `cty:"activation"`
	LayerNorm  bool      `cty:"layer_norm"`
	Bias       bool      `cty:"bias"`
	Norm       *string   `cty:"norm"`
	Plan       cty.Value `cty:"plan"`
	Width      *int      `cty:"width"`
	Depth      *int      `cty:"depth"`
}

type optimizerConfig struct {
	Kind        string   `cty:"kind"`
	LR          float64  `cty:"lr"`
	Momentum    float64  `cty:"momentum"`
	Nesterov    bool     `cty:"nesterov"`
	WeightDecay float64  `cty:"weight_decay"`
	Warmup      string   `cty:"warmup"`
	Schedule    string   `cty:"schedule"`
	Milestones  []string `cty:"milestones"`
	Gamma       float64  `cty:"gamma"`
	Beta1       float64  `cty:"beta1"`
	Beta2       float64  `cty:"beta2"`
	Eps         float64  `cty:"eps"`
}

func init() {
	stages.Default.Register(&stages.Kind{
		Name:    "train",
		Version: 6, // 3: steps split in two parts (nn.stepParts), which rounds differently with OpenBLAS; 4: SGD momentum takes the gradients added to it; 5: an explicit beta1 = 0 or beta2 = 0 trains as written (nn applied 0.9 and 0.999 again); 6: ReLU MLPs train with each core on a share of every layer's units, the input gradients of hidden layers below another summed from two partial products (nn's unitLearner)
		Doc:     "Trains a network with SGD or Adam(W), keeping checkpoints and per-epoch metrics.",
		Schema: stages.Schema{
			Attributes: []stages.Attribute{
				{Name: "data", Type: Dataset, Required: true},
				{Name: "seed", Type: cty.Number, Required: true, Doc: "initialisation seed", Check: stages.Int(0, maxSeed)},
				{Name: "data_order_seed", Type: cty.Number, Doc: "seed of the example order; the init seed when null", Check: stages.Int(0, maxSeed)},
				{Name: "epochs", Type: cty.Number, Required: true, Check: stages.Int(1, 1_000_000)},
				{Name: "batch_size", Type: cty.Number, Default: cty.NumberIntVal(128), Check: stages.Int(1, maxExamples)},
				{Name: "init", Type: cty.String, Default: cty.StringVal("pytorch"), Doc: "pytorch or kaiming_normal", Check: stages.OneOf(nn.Inits...)},
				{Name: "checkpoints", Type: cty.List(cty.String), Default: cty.ListValEmpty(cty.String), Doc: `steps ("500") or epochs ("2ep"); "0ep" is the initialisation`, Check: stages.Items(0, 10000, durationCheck)},
				{Name: "eval_train_examples", Type: cty.Number, Default: cty.NumberIntVal(10000), Doc: "training examples the per-epoch train metrics use", Check: stages.Int(1, maxExamples)},
				{Name: "random_crop", Type: cty.Number, NullNotInKey: true, Doc: "images, vgg and resnet: pad each training image by this many pixels of zeros and crop it back at a random offset, every step (4 in CIFAR recipes)", Check: stages.Int(0, data.MaxPad)},
				{Name: "random_flip", Type: cty.Bool, NullNotInKey: true, Doc: "images, vgg and resnet: mirror each training image left to right with probability ½, every step"},
				threadsAttr,
			},
			Blocks: []stages.BlockSchema{
				{Name: "model", Required: true, Schema: modelSchema},
				{Name: "optimizer", Required: true, Schema: optimizerSchema},
			},
		},
		Outputs: []stages.OutputSpec{
			{Name: "final", Type: Network},
			{Name: "checkpoints", Type: cty.List(Network)},
			{Name: "metrics", Type: cty.List(metricsType)},
			{Name: "test_accuracy", Type: cty.Number},
			{Name: "test_loss", Type: cty.Number},
			{Name: "train_accuracy", Type: cty.Number},
			{Name: "train_loss", Type: cty.Number},
			{Name: "steps", Type: cty.Number},
			{Name: "recipe", Type: Recipe, Doc: "the configuration and dataset, for prune nodes that train this run again with masks"},
		},
		Config:   trainConfig{},
		Validate: validateTrain,
		Expect:   expectTrain,
		Cost:     threadsCost,
		Numerics: modelNumerics,
		Run:      runTrain,
	})
}

// modelNumerics is the revision of the kernels the model block of cfg trains with.
func modelNumerics(cfg cty.Value) string {
	m := cfg.GetAttr("model")
	if m.IsNull() || !m.IsKnown() {
		return ""
	}
	k := m.GetAttr("kind")
	if k.IsNull() || !k.IsKnown() {
		return ""
	}
	return nn.NumericsOf(k.AsString())
}

// threadsCost reads the threads attribute: 0 means every core.
func threadsCost(cfg cty.Value) int {
	n, ok := knownInt(cfg, "threads")
	if !ok || n <= 0 {
		return runtime.NumCPU()
	}
	return n
}

// Duration is a count of steps or epochs: "500" or "2ep".
type Duration struct {
	N      int
	Epochs bool
}

// ParseDuration reads "500" (steps) or "2ep" (epochs).
func ParseDuration(s string) (Duration, error) {
	t := strings.TrimSpace(s)
	d := Duration{}
	if rest, ok := strings.CutSuffix(t, "ep"); ok {
		t, d.Epochs = rest, true
	}
	n, err := strconv.Atoi(t)
	if err != nil || n < 0 || n > 1<<40 {
		return d, fmt.Errorf("%q is neither a step count (\"500\") nor a number of epochs (\"2ep\")", s)
	}
	d.N = n
	return d, nil
}

// Steps converts d to steps for a run with spe steps per epoch.
func (d Duration) Steps(spe int) int {
	if d.Epochs {
		return d.N * spe
	}
	return d.N
}

// String is d as the user writes it.
func (d Duration) String() string {
	if d.Epochs {
		return fmt.Sprintf("%dep", d.N)
	}
	return strconv.Itoa(d.N)
}

// plannedRun is what the configuration of a train block tells before it runs: the
// architecture and the run's length in steps, when the dataset's shape is known.
type plannedRun struct {
	arch    nn.Arch
	archErr error // what is wrong with the model block for this data, at the model's attribute
	shape   datasetShape
	spe     int // steps per epoch
	epochs  int
}

// planRun reads a train configuration at plan time; ok is false when the dataset's shape,
// the model or the run's length is not known yet.
func planRun(p *stages.Planned) (r plannedRun, ok bool) {
	meta, ok := p.Meta("data")
	if !ok {
		return r, false
	}
	if r.shape, ok = shapeOfMeta(meta); !ok {
		return r, false
	}
	m := p.Get("model")
	if !m.IsWhollyKnown() || m.IsNull() {
		return r, false
	}
	var mc modelConfig
	if stages.DecodeValue(m, &mc) != nil {
		return r, false
	}
	r.arch, r.archErr = archOf(&mc, r.shape)
	batch, ok1 := knownInt(p.Value, "batch_size")
	epochs, ok2 := knownInt(p.Value, "epochs")
	if !ok1 || !ok2 || batch < 1 {
		return r, false
	}
	r.spe, r.epochs = nn.StepsPerEpoch(r.shape.Train, batch), epochs
	return r, true
}

func validateTrain(p *stages.Planned) error {
	var errs []error
	epochs, hasEpochs := knownInt(p.Value, "epochs")
	run, known := planRun(p)
	// A checkpoint beyond the run would fail after all the training is done. The first one
	// is named, with how many more there are.
	if ck := p.Get("checkpoints"); ck.IsWhollyKnown() && !ck.IsNull() {
		var beyond []string
		for i, v := range ck.AsValueSlice() {
			d, err := ParseDuration(v.AsString())
			switch {
			case err != nil:
			case d.Epochs && hasEpochs && d.N > epochs:
				beyond = append(beyond, fmt.Sprintf("checkpoint %d, %q, is beyond the run's %d epochs; keep checkpoints from \"0ep\" to \"%dep\" or train for longer", i, v.AsString(), epochs, epochs))
			case !d.Epochs && known && d.N > run.spe*run.epochs:
				beyond = append(beyond, fmt.Sprintf("checkpoint %d, step %d, is beyond the run's %d steps (%d epochs of %d steps); keep checkpoints from 0 to %d or train for longer", i, d.N, run.spe*run.epochs, run.epochs, run.spe, run.spe*run.epochs))
			}
		}
		if len(beyond) > 1 {
			beyond[0] += fmt.Sprintf(" (and %d more checkpoints are beyond it)", len(beyond)-1)
		}
		if len(beyond) > 0 {
			errs = append(errs, cty.GetAttrPath("checkpoints").NewErrorf("%s", beyond[0]))
		}
	}
	if o := p.Get("optimizer"); o.IsWhollyKnown() && !o.IsNull() {
		var oc optimizerConfig
		if stages.DecodeValue(o, &oc) == nil {
			if oc.Nesterov && oc.Momentum == 0 {
				errs = append(errs, cty.GetAttrPath("optimizer").GetAttr("nesterov").NewErrorf("nesterov needs a positive momentum"))
			}
			if w, err := ParseDuration(oc.Warmup); err == nil && known && w.Steps(run.spe) > run.spe*run.epochs {
				errs = append(errs, cty.GetAttrPath("optimizer").GetAttr("warmup").NewErrorf("warmup %q is %d steps, longer than the run's %d steps", oc.Warmup, w.Steps(run.spe), run.spe*run.epochs))
			}
			if oc.Schedule == "step" && len(oc.Milestones) == 0 {
				errs = append(errs, cty.GetAttrPath("optimizer").GetAttr("schedule").NewErrorf(`the step schedule needs milestones, the steps or epochs at which the learning rate is multiplied by gamma, such as ["80ep", "120ep"]`))
			}
		}
	}
	if known {
		if b, ok := knownInt(p.Value, "batch_size"); ok && b > run.shape.Train {
			errs = append(errs, cty.GetAttrPath("batch_size").NewErrorf("batch_size is %d but the dataset has only %d training examples", b, run.shape.Train))
		}
		for _, name := range []string{"random_crop", "random_flip"} {
			v := p.Get(name)
			on := v.IsKnown() && !v.IsNull() && (v.Type() == cty.Bool && v.True() || v.Type() == cty.Number && v.AsBigFloat().Sign() > 0)
			if on && run.archErr == nil && !run.arch.Conv() {
				errs = append(errs, cty.GetAttrPath(name).NewErrorf("%s is for vgg and resnet, which see images; an mlp sees a vector", name))
			}
		}
		if run.archErr != nil {
			errs = append(errs, inBlock("model", run.archErr))
		} else if need := trainMemory(run.arch, p); need > memoryBudget() {
			at := "hidden"
			if run.arch.Conv() {
				at = "width"
			}
			errs = append(errs, cty.GetAttrPath("model").GetAttr(at).NewErrorf("training %s would take about %s of memory (%d parameters, with gradients, optimiser state and checkpoints), more than this machine's %s; use narrower or fewer layers, or fewer checkpoints", run.arch, bytesize.Format(need), run.arch.NumParams(), bytesize.Format(memoryBudget())))
		}
	}
	return errors.Join(errs...)
}

// trainMemory estimates the peak memory of a run of arch: the network, its gradients and up
// to two optimiser buffers, every checkpoint kept until the run ends, and a step's buffers
// for a batch (nn.Arch.StepFloats).
func trainMemory(arch nn.Arch, p *stages.Planned) int64 {
	params := arch.NumParams()
	copies := int64(5)
	if n, ok := p.Len("checkpoints"); ok {
		copies += int64(n)
	}
	batch, _ := knownInt(p.Value, "batch_size")
	return 4 * (params*copies + arch.StepFloats(batch))
}

// expectTrain tells the architecture of the run's networks and the length of its
// checkpoints, and the recipe's description for prune nodes, from the configuration.
func expectTrain(p *stages.Planned) map[string]stages.Expected {
	run, ok := planRun(p)
	if !ok || run.archErr != nil {
		return nil
	}
	arch := run.arch.String()
	n := -1
	if l, ok := p.Len("checkpoints"); ok {
		n = l
	}
	out := map[string]stages.Expected{
		"final":       {Meta: arch, Len: -1},
		"checkpoints": {Meta: arch, Len: n},
	}
	steps := recipeSteps{StepsPerEpoch: run.spe, Steps: run.spe * run.epochs, Checkpoints: []int{}}
	if ck := p.Get("checkpoints"); ck.IsWhollyKnown() && !ck.IsNull() {
		for _, v := range ck.AsValueSlice() {
			d, err := ParseDuration(v.AsString())
			if err != nil {
				return out
			}
			steps.Checkpoints = append(steps.Checkpoints, d.Steps(run.spe))
		}
		meta, _ := json.Marshal(recipeMeta{Arch: arch, recipeSteps: steps})
		out["recipe"] = stages.Expected{Meta: string(meta), Len: -1}
	}
	return out
}

// archOf reads a model block for data of the given shape. An error is a cty.PathError
// naming the model's attribute at fault (relative to the model block), so that validate and
// plan point at its line; run reports the same message.
func archOf(m *modelConfig, s datasetShape) (nn.Arch, error) {
	a := nn.Arch{Kind: m.Kind, Input: s.Dims, Output: s.Classes, Hidden: m.Hidden, Activation: m.Activation, LayerNorm: m.LayerNorm, Bias: m.Bias}
	attr := func(name string) cty.Path { return cty.GetAttrPath(name) }
	if a.Kind == "mlp" {
		if m.Hidden == nil {
			return a, attr("hidden").NewErrorf("an mlp needs hidden, its hidden widths (such as [512, 512]; [] for none)")
		}
		for _, name := range []struct {
			set  bool
			name string
		}{{m.Norm != nil, "norm"}, {!m.Plan.IsNull(), "plan"}, {m.Width != nil, "width"}, {m.Depth != nil, "depth"}} {
			if name.set {
				return a, attr(name.name).NewErrorf("%s is for vgg and resnet; an mlp's layers are hidden (and LayerNorm is layer_norm = true)", name.name)
			}
		}
		return a, nil
	}
	if m.Hidden != nil {
		return a, attr("hidden").NewErrorf("a %s has no hidden layers; its layers are given by %s", a.Kind, map[string]string{"vgg": "plan and width", "resnet": "depth and width"}[a.Kind])
	}
	if a.Activation != "relu" {
		return a, attr("activation").NewErrorf("a %s uses relu, as open_lth's does", a.Kind)
	}
	if s.C == 0 {
		return a, attr("kind").NewErrorf("a %s takes images, but the dataset holds feature vectors of %d values; use an image dataset (mnist, fashion-mnist, cifar10, idx images, stripes) or kind = \"mlp\"", a.Kind, s.Dims)
	}
	a.Channels, a.Height, a.Width = s.C, s.H, s.W
	a.LayerNorm = m.Norm == nil || *m.Norm == "layer_norm"
	if m.LayerNorm && !a.LayerNorm {
		return a, attr("layer_norm").NewErrorf("layer_norm = true contradicts norm = \"none\"; a %s's norm is set by norm alone", a.Kind)
	}
	width := map[string]int{"vgg": 64, "resnet": 16}[a.Kind]
	if m.Width != nil {
		width = *m.Width
	}
	switch a.Kind {
	case "vgg":
		a.Bias = true
		if m.Depth != nil {
			return a, attr("depth").NewErrorf(`depth is for resnet; a vgg's layers are its plan (such as "vgg11" or "vgg16")`)
		}
		plan := vggPlans["vgg16"]
		if !m.Plan.IsNull() {
			var err error
			if plan, err = parsePlan(m.Plan); err != nil {
				return a, attr("plan").NewErrorf("%v", err)
			}
		}
		for _, w := range plan {
			if w != nn.PlanPool && w*width%64 != 0 {
				return a, attr("width").NewErrorf("width %d scales the plan's width %d to %d×%d/64, not a whole number of channels; use a width that is a multiple of %d", width, w, w, width, 64/gcd(w, 64))
			}
			if w == nn.PlanPool {
				a.Plan = append(a.Plan, w)
			} else {
				a.Plan = append(a.Plan, w*width/64)
			}
		}
	case "resnet":
		a.Bias = false
		if !m.Plan.IsNull() {
			return a, attr("plan").NewErrorf("plan is for vgg; a resnet is given by depth and width")
		}
		depth := 20
		if m.Depth != nil {
			depth = *m.Depth
		}
		if (depth-2)%6 != 0 {
			return a, attr("depth").NewErrorf("a CIFAR ResNet's depth is 6n+2 for n blocks per stage (20, 32, 44, 56, 110), not %d", depth)
		}
		a.Plan, a.Blocks = []int{width, 2 * width, 4 * width}, (depth-2)/6
	}
	if err := a.Validate(); err != nil {
		where := "kind"
		if a.Kind == "vgg" && strings.Contains(err.Error(), "plan") || strings.Contains(err.Error(), "max-pool") {
			where = "plan"
		}
		return a, attr(where).NewErrorf("%v", err)
	}
	return a, nil
}

// inBlock puts err, a cty.PathError relative to a block, under the block's name, so the
// diagnostic points at the attribute inside it.
func inBlock(block string, err error) error {
	var pe cty.PathError
	if errors.As(err, &pe) {
		return append(cty.GetAttrPath(block), pe.Path...).NewErrorf("%s", pe.Error())
	}
	return cty.GetAttrPath(block).NewError(err)
}

func gcd(a, b int) int {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

func optimOf(o *optimizerConfig) nn.OptimConfig {
	return nn.OptimConfig{
		Kind:        o.Kind,
		Momentum:    o.Momentum,
		Nesterov:    o.Nesterov,
		WeightDecay: o.WeightDecay,
		Beta1:       o.Beta1,
		Beta2:       o.Beta2,
		Eps:         o.Eps,
	}
}

// TrainConfigOf turns a train block's configuration into nn's, for the training set
// train. The prune stage uses it to rerun a train node's recipe.
func TrainConfigOf(c *trainConfig, train *data.Set) (nn.TrainConfig, error) {
	var tc nn.TrainConfig
	trainN := train.N
	arch, err := archOf(&c.Model, datasetShape{Dims: train.D, Classes: train.Classes, C: train.C, H: train.H, W: train.W, Train: train.N})
	if err != nil {
		return tc, fmt.Errorf("model: %w", err)
	}
	order := c.Seed
	if c.DataOrderSeed != nil {
		order = *c.DataOrderSeed
	}
	spe := nn.StepsPerEpoch(trainN, c.BatchSize)
	o := &c.Optimizer
	warm, err := ParseDuration(o.Warmup)
	if err != nil {
		return tc, err
	}
	sched := nn.Schedule{LR: o.LR, Kind: o.Schedule, Warmup: warm.Steps(spe), Gamma: o.Gamma}
	for _, m := range o.Milestones {
		d, err := ParseDuration(m)
		if err != nil {
			return tc, err
		}
		sched.Milestones = append(sched.Milestones, d.Steps(spe))
	}
	var aug nn.Augment
	if c.RandomCrop != nil {
		aug.Crop = *c.RandomCrop
	}
	if c.RandomFlip != nil {
		aug.Flip = *c.RandomFlip
	}
	if aug.On() && !arch.Conv() {
		return tc, fmt.Errorf("random_crop and random_flip are for vgg and resnet, which see images; an mlp sees a vector")
	}
	tc = nn.TrainConfig{
		Arch: arch, Init: c.Init, Augment: aug,
		Seed: c.Seed, DataSeed: order,
		Epochs: c.Epochs, BatchSize: c.BatchSize,
		Optim: optimOf(o), Schedule: sched, EvalTrain: c.EvalTrainExamples,
	}
	for _, ck := range c.Checkpoints {
		d, err := ParseDuration(ck)
		if err != nil {
			return tc, err
		}
		tc.Checkpoints = append(tc.Checkpoints, d.Steps(spe))
	}
	return tc, nil
}

func runTrain(ctx context.Context, in *stages.Input) (*stages.Result, error) {
	var c trainConfig
	if err := in.Decode(&c); err != nil {
		return nil, err
	}
	raw, err := in.Read(c.Data)
	if err != nil {
		return nil, err
	}
	d, _, err := LoadDataset(ctx, raw, in.Materialize)
	if err != nil {
		return nil, err
	}
	tc, err := TrainConfigOf(&c, d.Train)
	if err != nil {
		return nil, err
	}
	b := blas.Default().WithThreads(in.Threads)
	tc.BLAS = b
	var last time.Time
	spe := nn.StepsPerEpoch(d.Train.N, tc.BatchSize)
	tc.Progress = func(p nn.Progress) {
		// A report per step would flood the display: a few per second are enough.
		if now := time.Now(); now.Sub(last) >= 200*time.Millisecond || p.Step == p.Steps {
			last = now
			in.Report(stages.Progress{Done: float64(p.Step) / float64(spe), Total: float64(tc.Epochs), Unit: "epoch",
				Message: fmt.Sprintf("step %d/%d loss %.4f lr %.3g", p.Step, p.Steps, p.Loss, p.LR)})
		}
	}
	res, err := nn.Train(ctx, tc, d.Train, d.Test)
	if err != nil {
		return nil, err
	}
	encode := encodeNetwork
	final, err := encode(res.Final)
	if err != nil {
		return nil, err
	}
	var ckpts []stages.Artifact
	for _, c := range res.Checkpoints {
		a, err := encode(c)
		if err != nil {
			return nil, err
		}
		ckpts = append(ckpts, a)
	}
	var rows []cty.Value
	for _, m := range res.Metrics {
		rows = append(rows, cty.ObjectVal(map[string]cty.Value{
			"epoch": cty.NumberIntVal(int64(m.Epoch)), "step": cty.NumberIntVal(int64(m.Step)), "lr": cty.NumberFloatVal(m.LR),
			"train_loss": cty.NumberFloatVal(m.TrainLoss), "train_accuracy": cty.NumberFloatVal(m.TrainAcc),
			"test_loss": cty.NumberFloatVal(m.TestLoss), "test_accuracy": cty.NumberFloatVal(m.TestAcc),
		}))
	}
	recipe, err := encodeRecipe(in.Config, c.Data, tc, spe)
	if err != nil {
		return nil, err
	}
	if len(res.Metrics) == 0 {
		return nil, fmt.Errorf("the run recorded no metrics (epochs = %d)", tc.Epochs)
	}
	last2 := res.Metrics[len(res.Metrics)-1]
	return &stages.Result{Outputs: map[string]stages.Output{
		"final":          {Artifacts: []stages.Artifact{final}},
		"checkpoints":    {Artifacts: ckpts},
		"metrics":        {Value: cty.ListVal(rows)},
		"test_accuracy":  {Value: cty.NumberFloatVal(last2.TestAcc)},
		"test_loss":      {Value: cty.NumberFloatVal(last2.TestLoss)},
		"train_accuracy": {Value: cty.NumberFloatVal(last2.TrainAcc)},
		"train_loss":     {Value: cty.NumberFloatVal(last2.TrainLoss)},
		"steps":          {Value: cty.NumberIntVal(int64(res.Steps))},
		"recipe":         {Artifacts: []stages.Artifact{recipe}},
	}}, nil
}

package kinds

import (
	"context"
	"fmt"
	"math/big"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/modulo-ml/modulo/stages"

	"github.com/zclconf/go-cty/cty"

	"github.com/modulo-ml/modulo/artifacts"
	"github.com/modulo-ml/modulo/nn"
	"github.com/modulo-ml/modulo/nn/blas"
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
	{Name: "kind", Type: cty.String, Default: cty.StringVal("mlp"), Doc: "mlp"},
	{Name: "hidden", Type: cty.List(cty.Number), Required: true, Doc: "hidden widths, e.g. [512, 512, 512]"},
	{Name: "activation", Type: cty.String, Default: cty.StringVal("relu"), Doc: "relu, gelu or tanh"},
	{Name: "layer_norm", Type: cty.Bool, Default: cty.False},
	{Name: "bias", Type: cty.Bool, Default: cty.True},
}}

var optimizerSchema = stages.Schema{Attributes: []stages.Attribute{
	{Name: "kind", Type: cty.String, Default: cty.StringVal("sgd"), Doc: "sgd, adam or adamw"},
	{Name: "lr", Type: cty.Number, Required: true},
	{Name: "momentum", Type: cty.Number, Default: cty.Zero},
	{Name: "nesterov", Type: cty.Bool, Default: cty.False},
	{Name: "weight_decay", Type: cty.Number, Default: cty.Zero},
	{Name: "warmup", Type: cty.String, Default: cty.StringVal("0"), Doc: `steps ("500") or epochs ("1ep")`},
	{Name: "schedule", Type: cty.String, Default: cty.StringVal("constant"), Doc: "constant, step, cosine or linear"},
	{Name: "milestones", Type: cty.List(cty.String), Default: cty.ListValEmpty(cty.String), Doc: "step schedule: when to multiply by gamma"},
	{Name: "gamma", Type: cty.Number, Default: cty.NumberFloatVal(0.1)},
	{Name: "beta1", Type: cty.Number, Default: cty.NumberFloatVal(0.9)},
	{Name: "beta2", Type: cty.Number, Default: cty.NumberFloatVal(0.999)},
	{Name: "eps", Type: cty.Number, Default: cty.NumberFloatVal(1e-8)},
}}

func init() {
	stages.Default.Register(&stages.Kind{
		Name:    "train",
		Version: 4, // 3: steps split in two parts (nn.stepParts), which rounds differently with OpenBLAS; 4: SGD momentum takes the gradients added to it
		Doc:     "Trains a network with SGD or Adam(W), keeping checkpoints and per-epoch metrics.",
		Schema: stages.Schema{
			Attributes: []stages.Attribute{
				{Name: "data", Type: Dataset, Required: true},
				{Name: "seed", Type: cty.Number, Required: true, Doc: "initialisation seed"},
				{Name: "data_order_seed", Type: cty.Number, Doc: "seed of the example order; the init seed when null"},
				{Name: "epochs", Type: cty.Number, Required: true},
				{Name: "batch_size", Type: cty.Number, Default: cty.NumberIntVal(128)},
				{Name: "init", Type: cty.String, Default: cty.StringVal("pytorch"), Doc: "pytorch or kaiming_normal"},
				{Name: "checkpoints", Type: cty.List(cty.String), Default: cty.ListValEmpty(cty.String), Doc: `steps ("500") or epochs ("2ep"); "0ep" is the initialisation`},
				{Name: "eval_train_examples", Type: cty.Number, Default: cty.NumberIntVal(10000), Doc: "training examples the per-epoch train metrics use"},
				{Name: "threads", Type: cty.Number, Default: cty.Zero, NotInKey: true, Doc: "BLAS threads (0: all cores); counted against -j"},
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
		Validate: validateTrain,
		Cost:     threadsCost,
		Run:      runTrain,
	})
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
	if err != nil || n < 0 {
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

func validateTrain(cfg cty.Value) error {
	for _, name := range []string{"epochs", "batch_size", "eval_train_examples", "threads"} {
		if n, ok := knownInt(cfg, name); ok && n < 0 || ok && n == 0 && name == "batch_size" {
			return cty.GetAttrPath(name).NewErrorf("%s must be positive, got %d", name, n)
		}
	}
	if ck := cfg.GetAttr("checkpoints"); ck.IsWhollyKnown() {
		for it := ck.ElementIterator(); it.Next(); {
			_, v := it.Element()
			if _, err := ParseDuration(v.AsString()); err != nil {
				return cty.GetAttrPath("checkpoints").NewErrorf("%v", err)
			}
		}
	}
	if m := cfg.GetAttr("model"); m.IsWhollyKnown() && !m.IsNull() {
		if _, err := archOf(m, 1, 1); err != nil {
			return cty.GetAttrPath("model").GetAttr("hidden").NewErrorf("%v", err)
		}
	}
	if o := cfg.GetAttr("optimizer"); o.IsWhollyKnown() && !o.IsNull() {
		oc := optimOf(o)
		if err := oc.Validate(); err != nil {
			return cty.GetAttrPath("optimizer").GetAttr("kind").NewErrorf("%v", err)
		}
		for _, name := range []string{"warmup"} {
			if _, err := ParseDuration(o.GetAttr(name).AsString()); err != nil {
				return cty.GetAttrPath("optimizer").GetAttr(name).NewErrorf("%v", err)
			}
		}
		s := nn.Schedule{LR: num(o, "lr"), Kind: o.GetAttr("schedule").AsString()}
		if err := s.Validate(); err != nil {
			return cty.GetAttrPath("optimizer").GetAttr("schedule").NewErrorf("%v", err)
		}
	}
	return nil
}

// archOf reads a model block for data of the given size.
func archOf(m cty.Value, input, output int) (nn.Arch, error) {
	a := nn.Arch{
		Kind:       m.GetAttr("kind").AsString(),
		Input:      input,
		Output:     output,
		Activation: m.GetAttr("activation").AsString(),
		LayerNorm:  m.GetAttr("layer_norm").True(),
		Bias:       m.GetAttr("bias").True(),
	}
	for it := m.GetAttr("hidden").ElementIterator(); it.Next(); {
		_, v := it.Element()
		n, acc := v.AsBigFloat().Int64()
		if acc != big.Exact || n < 1 || n > 1<<20 {
			return a, fmt.Errorf("hidden widths are whole numbers from 1 to 1048576, got %s", v.AsBigFloat().Text('g', -1))
		}
		a.Hidden = append(a.Hidden, int(n))
	}
	return a, a.Validate()
}

func optimOf(o cty.Value) nn.OptimConfig {
	return nn.OptimConfig{
		Kind:        o.GetAttr("kind").AsString(),
		Momentum:    num(o, "momentum"),
		Nesterov:    o.GetAttr("nesterov").True(),
		WeightDecay: num(o, "weight_decay"),
		Beta1:       num(o, "beta1"),
		Beta2:       num(o, "beta2"),
		Eps:         num(o, "eps"),
	}
}

func num(v cty.Value, name string) float64 {
	f, _ := v.GetAttr(name).AsBigFloat().Float64()
	return f
}

// TrainConfigOf turns a train block's configuration into nn's, for data d. The prune stage
// uses it to rerun a train node's recipe.
func TrainConfigOf(cfg cty.Value, trainN, dims, classes int) (nn.TrainConfig, error) {
	var tc nn.TrainConfig
	arch, err := archOf(cfg.GetAttr("model"), dims, classes)
	if err != nil {
		return tc, err
	}
	seed, _ := knownInt(cfg, "seed")
	order := seed
	if v := cfg.GetAttr("data_order_seed"); !v.IsNull() {
		order, _ = knownInt(cfg, "data_order_seed")
	}
	epochs, _ := knownInt(cfg, "epochs")
	batch, _ := knownInt(cfg, "batch_size")
	evalTrain, _ := knownInt(cfg, "eval_train_examples")
	spe := nn.StepsPerEpoch(trainN, batch)
	o := cfg.GetAttr("optimizer")
	warm, _ := ParseDuration(o.GetAttr("warmup").AsString())
	sched := nn.Schedule{LR: num(o, "lr"), Kind: o.GetAttr("schedule").AsString(), Warmup: warm.Steps(spe), Gamma: num(o, "gamma")}
	for it := o.GetAttr("milestones").ElementIterator(); it.Next(); {
		_, v := it.Element()
		d, err := ParseDuration(v.AsString())
		if err != nil {
			return tc, err
		}
		sched.Milestones = append(sched.Milestones, d.Steps(spe))
	}
	tc = nn.TrainConfig{
		Arch: arch, Init: cfg.GetAttr("init").AsString(),
		Seed: uint64(seed), DataSeed: uint64(order),
		Epochs: epochs, BatchSize: batch,
		Optim: optimOf(o), Schedule: sched, EvalTrain: evalTrain,
	}
	for it := cfg.GetAttr("checkpoints").ElementIterator(); it.Next(); {
		_, v := it.Element()
		d, err := ParseDuration(v.AsString())
		if err != nil {
			return tc, err
		}
		tc.Checkpoints = append(tc.Checkpoints, d.Steps(spe))
	}
	return tc, nil
}

func runTrain(ctx context.Context, in *stages.Input) (*stages.Result, error) {
	raw, err := in.Read(stages.RefOf(in.Config.GetAttr("data")))
	if err != nil {
		return nil, err
	}
	d, _, err := LoadDataset(raw)
	if err != nil {
		return nil, err
	}
	tc, err := TrainConfigOf(in.Config, d.Train.N, d.Train.D, d.Train.Classes)
	if err != nil {
		return nil, err
	}
	b := blas.Default()
	b.SetThreads(in.Threads)
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
	recipe, err := encodeRecipe(in.Config, stages.RefOf(in.Config.GetAttr("data")), tc, spe)
	if err != nil {
		return nil, err
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

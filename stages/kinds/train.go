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
	{Name: "kind", Type: cty.String, Default: cty.StringVal("mlp"), Doc: "mlp", Check: stages.OneOf("mlp")},
	{Name: "hidden", Type: cty.List(cty.Number), Required: true, Doc: "hidden widths, e.g. [512, 512, 512]", Check: stages.Items(0, maxLayers, stages.Int(1, maxWidth))},
	{Name: "activation", Type: cty.String, Default: cty.StringVal("relu"), Doc: "relu, gelu or tanh", Check: stages.OneOf(nn.Activations...)},
	{Name: "layer_norm", Type: cty.Bool, Default: cty.False},
	{Name: "bias", Type: cty.Bool, Default: cty.True},
}}

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
	Model             modelConfig     `cty:"model"`
	Optimizer         optimizerConfig `cty:"optimizer"`
}

type modelConfig struct {
	Kind       string `cty:"kind"`
	Hidden     []int  `cty:"hidden"`
	Activation string `cty:"activation"`
	LayerNorm  bool   `cty:"layer_norm"`
	Bias       bool   `cty:"bias"`
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
		Version: 5, // 3: steps split in two parts (nn.stepParts), which rounds differently with OpenBLAS; 4: SGD momentum takes the gradients added to it; 5: an explicit beta1 = 0 or beta2 = 0 trains as written (nn applied 0.9 and 0.999 again)
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
	arch   nn.Arch
	shape  datasetShape
	spe    int // steps per epoch
	epochs int
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
	r.arch = archOf(&mc, r.shape.Dims, r.shape.Classes)
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
		if err := run.arch.Validate(); err != nil {
			errs = append(errs, cty.GetAttrPath("model").NewErrorf("%v", err))
		} else if need := trainMemory(run.arch, p); need > memoryBudget() {
			errs = append(errs, cty.GetAttrPath("model").GetAttr("hidden").NewErrorf("training %s would take about %s of memory (%d parameters, with gradients, optimiser state and checkpoints), more than this machine's %s; use narrower or fewer layers, or fewer checkpoints", run.arch, bytesize.Format(need), run.arch.NumParams(), bytesize.Format(memoryBudget())))
		}
	}
	return errors.Join(errs...)
}

// trainMemory estimates the peak memory of a run of arch: the network, its gradients and up
// to two optimiser buffers, every checkpoint kept until the run ends, and a batch's
// activations forward and back.
func trainMemory(arch nn.Arch, p *stages.Planned) int64 {
	params := arch.NumParams()
	copies := int64(5)
	if n, ok := p.Len("checkpoints"); ok {
		copies += int64(n)
	}
	batch, _ := knownInt(p.Value, "batch_size")
	var units int64
	for _, w := range arch.Widths() {
		units += int64(w)
	}
	return 4 * (params*copies + 4*int64(batch)*units)
}

// expectTrain tells the architecture of the run's networks and the length of its
// checkpoints, and the recipe's description for prune nodes, from the configuration.
func expectTrain(p *stages.Planned) map[string]stages.Expected {
	run, ok := planRun(p)
	if !ok || run.arch.Validate() != nil {
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

// archOf reads a model block for data of the given size.
func archOf(m *modelConfig, input, output int) nn.Arch {
	return nn.Arch{
		Kind:       m.Kind,
		Input:      input,
		Output:     output,
		Hidden:     m.Hidden,
		Activation: m.Activation,
		LayerNorm:  m.LayerNorm,
		Bias:       m.Bias,
	}
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

// TrainConfigOf turns a train block's configuration into nn's, for data of trainN examples
// of dims features in classes classes. The prune stage uses it to rerun a train node's recipe.
func TrainConfigOf(c *trainConfig, trainN, dims, classes int) (nn.TrainConfig, error) {
	var tc nn.TrainConfig
	arch := archOf(&c.Model, dims, classes)
	if err := arch.Validate(); err != nil {
		return tc, err
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
	tc = nn.TrainConfig{
		Arch: arch, Init: c.Init,
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
	d, _, err := LoadDataset(ctx, raw)
	if err != nil {
		return nil, err
	}
	tc, err := TrainConfigOf(&c, d.Train.N, d.Train.D, d.Train.Classes)
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

// Package nn holds modulo's numerics: MLP networks of float32 parameters, their forward and
// backward passes on a tuned BLAS (package nn/blas), optimisers, training, and the formats
// networks are stored in. It knows nothing of caching or HCL: stages call it with plain
// values and store what it returns.
//
// Layout: matrices are row-major []float32. A linear layer's weight is out×in, as in
// PyTorch, so a batch X (b×in) maps to X·Wᵀ + b (b×out). Parameters are named as in a
// PyTorch state_dict ("layers.0.weight"), so a network saved as safetensors opens in PyTorch.
//
// Precision: parameters and activations are float32; losses, metrics and other
// accumulations are float64, so a sum over 60,000 examples does not lose digits.
package nn

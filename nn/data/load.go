package data

import "fmt"

// Sources lists the dataset sources Load understands.
var Sources = []string{"mnist", "fashion-mnist", "idx", "synthetic"}

// Source names a dataset: Kind is one of Sources; Dir is the directory of an "idx"
// source (for "mnist" and "fashion-mnist" it overrides the located directory); Synthetic
// configures a "synthetic" source.
type Source struct {
	Kind      string
	Dir       string
	Synthetic SyntheticConfig
}

// Load loads a source. Like the loaders it dispatches to, it is memoised: while the files
// keep their path, size and modification time, it returns the same *Dataset without
// reading them again, so the result must be treated as read-only. MNIST and Fashion-MNIST
// must have exactly 10 classes' worth of labels (a label ≥ 10 is an error); an idx
// source infers its classes from its labels.
func Load(src Source) (*Dataset, error) {
	switch src.Kind {
	case "synthetic":
		return Synthetic(src.Synthetic)
	case "idx":
		if src.Dir == "" {
			return nil, fmt.Errorf(`source "idx" needs a directory holding the four IDX files`)
		}
		return LoadIDXDir("idx", src.Dir)
	case "mnist", "fashion-mnist":
		dir := src.Dir
		if dir == "" {
			var err error
			if src.Kind == "mnist" {
				dir, err = MNISTDir()
			} else {
				dir, err = FashionMNISTDir()
			}
			if err != nil {
				return nil, err
			}
		}
		return LoadIDXDirClasses(src.Kind, dir, 10)
	}
	return nil, fmt.Errorf("unknown dataset source %q; the sources are: mnist, fashion-mnist, idx, synthetic", src.Kind)
}

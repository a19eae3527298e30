package dag_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/modulo-ml/modulo/dag"
)

// A small training pipeline: two models trained on the same prepared data,
// then compared by an evaluation step.
func pipeline() *dag.Graph {
	g := dag.New()
	g.Connect(`prepare.data`, `fetch.raw`)
	g.Connect(`train.net["a"]`, `prepare.data`)
	g.Connect(`train.net["b"]`, `prepare.data`)
	g.Connect(`eval.compare`, `train.net["a"]`)
	g.Connect(`eval.compare`, `train.net["b"]`)
	g.Add(`report.readme`)
	return g
}

func ExampleGraph_String() {
	fmt.Print(pipeline())
	// Output:
	// eval.compare -> train.net["a"], train.net["b"]
	// fetch.raw
	// prepare.data -> fetch.raw
	// report.readme
	// train.net["a"] -> prepare.data
	// train.net["b"] -> prepare.data
}

func ExampleGraph_TopoOrder() {
	order, err := pipeline().TopoOrder()
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, v := range order {
		fmt.Println(v)
	}
	// Output:
	// fetch.raw
	// prepare.data
	// report.readme
	// train.net["a"]
	// train.net["b"]
	// eval.compare
}

func ExampleGraph_Cycles() {
	g := pipeline()
	g.Connect(`fetch.raw`, `eval.compare`) // oops: feeds results back into the input
	for _, c := range g.Cycles() {
		fmt.Println(c)
		fmt.Println(c.Members)
	}
	_, err := g.TopoOrder()
	fmt.Println(err)
	// Output:
	// eval.compare -> train.net["a"] -> prepare.data -> fetch.raw -> eval.compare
	// [eval.compare fetch.raw prepare.data train.net["a"] train.net["b"]]
	// dependency cycle: eval.compare -> train.net["a"] -> prepare.data -> fetch.raw -> eval.compare (mutually dependent: eval.compare, fetch.raw, prepare.data, train.net["a"], train.net["b"])
}

func ExampleGraph_Walk() {
	g := pipeline()
	// Training model b fails. With KeepGoing, everything that does not need
	// it still runs; its dependents are skipped with b as the cause.
	opts := dag.WalkOptions{Workers: 1, KeepGoing: true}
	report := g.Walk(context.Background(), opts, func(ctx context.Context, v string) error {
		fmt.Println("run", v)
		if v == `train.net["b"]` {
			return errors.New("loss is NaN")
		}
		return nil
	})
	fmt.Println("skipped:", report.Skipped)
	fmt.Println(report.Err())
	// Output:
	// run fetch.raw
	// run prepare.data
	// run report.readme
	// run train.net["a"]
	// run train.net["b"]
	// skipped: map[eval.compare:[train.net["b"]]]
	// 1 vertex failed (1 skipped because an upstream vertex failed)
	//   train.net["b"]: loss is NaN
}

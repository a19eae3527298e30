package kinds

import (
	"fmt"

	"github.com/zclconf/go-cty/cty"
)

// TableCSV writes a table, a list of objects one per row (train's metrics, interpolate's
// curve, a command's table), as CSV: a header row naming the columns, in the order they
// first appear (each row's attributes sorted), then one line per row, numbers exact, a null
// or missing cell empty. It is how a report writes table.csv and a command receives its
// input tables; modulo export writes a table output with it. A value that is not a table,
// or has no rows, is an error that says so.
func TableCSV(v cty.Value) ([]byte, error) {
	if v.IsNull() || !v.IsWhollyKnown() {
		return nil, fmt.Errorf("the table is not known")
	}
	tb, err := tableOf(v, nil)
	if err != nil {
		return nil, err
	}
	return tb.csv()
}

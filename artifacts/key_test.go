package artifacts

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"testing/iotest"
)

func TestKeyDescription(t *testing.T) {
	tests := []struct {
		name  string
		lines [][2]string // label, value added after the salt
		want  string
	}{
		{"salt only", nil, "salt v1\n"},
		{"plain", [][2]string{{"stage", "train"}, {"param.lr", "0.001"}}, "salt v1\nstage train\nparam.lr 0.001\n"},
		{"value with spaces", [][2]string{{"cmd", "python train.py --lr 1"}}, "salt v1\ncmd python train.py --lr 1\n"},
		{"empty value", [][2]string{{"opt", ""}}, "salt v1\nopt \n"},
		{"newline in value", [][2]string{{"a", "x\nb y"}}, "salt v1\na x\\nb y\n"},
		{"backslash in value", [][2]string{{"path", `C:\n`}}, "salt v1\npath C:\\\\n\n"},
		{"carriage return", [][2]string{{"a", "x\r"}}, "salt v1\na x\\r\n"},
		{"space in label", [][2]string{{"a b", "c"}}, "salt v1\na\\sb c\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k := NewKey("v1")
			for _, l := range tt.lines {
				k.Add(l[0], l[1])
			}
			if got := string(k.Description()); got != tt.want {
				t.Errorf("Description() = %q, want %q", got, tt.want)
			}
			if got, want := k.ID(), ActionID(sha256.Sum256([]byte(tt.want))); got != want {
				t.Errorf("ID() = %s, want SHA-256 of description %s", got, want)
			}
			parsed, err := ParseDescription(k.Description())
			if err != nil {
				t.Fatalf("ParseDescription: %v", err)
			}
			want := []KeyLine{{"salt", "v1"}}
			for _, l := range tt.lines {
				want = append(want, KeyLine{l[0], l[1]})
			}
			if !equalLines(parsed, want) {
				t.Errorf("ParseDescription = %q, want %q", parsed, want)
			}
		})
	}
}

func equalLines(a, b []KeyLine) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestKeyNoCollisions checks that escaping keeps distinct sequences of
// influences distinct, in particular that a value cannot forge extra lines.
func TestKeyNoCollisions(t *testing.T) {
	keys := map[string][][2]string{
		"one line":        {{"a", "x\nb y"}},
		"two lines":       {{"a", "x"}, {"b", "y"}},
		"escaped-looking": {{"a", `x\nb y`}},
		"label space":     {{"a x", "y"}},
		"value space":     {{"a", "x y"}},
		"swapped":         {{"b", "y"}, {"a", "x"}},
	}
	seen := map[ActionID]string{}
	for name, lines := range keys {
		k := NewKey("v1")
		for _, l := range lines {
			k.Add(l[0], l[1])
		}
		id := k.ID()
		if other, ok := seen[id]; ok {
			t.Errorf("%q and %q have the same ID", name, other)
		}
		seen[id] = name
	}
	if NewKey("v1").ID() == NewKey("v2").ID() {
		t.Error("salt does not change the ID")
	}
}

func TestKeyDescriptionIsACopy(t *testing.T) {
	k := NewKey("v1")
	d := k.Description()
	d[0] = 'X'
	if string(k.Description()) != "salt v1\n" {
		t.Error("mutating Description's result changed the key")
	}
}

func TestParseDescriptionErrors(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"empty", "", "empty"},
		{"no final newline", "salt v1", "final newline"},
		{"no space", "salt v1\nlabel\n", "line 2: no space"},
		{"unknown escape", "salt v1\na \\q\n", `unknown escape \q`},
		{"trailing backslash", "salt v1\na b\\\n", "trailing backslash"},
		{"label escape", "salt v1\na\\x b\n", "label"},
		{"no salt", "stage x\n", "want salt"},
		{"blank line", "salt v1\n\n", "line 2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseDescription([]byte(tt.in))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("ParseDescription(%q) error = %v, want one containing %q", tt.in, err, tt.want)
			}
		})
	}
}

func TestKeyDebug(t *testing.T) {
	var buf bytes.Buffer
	old := debugOut
	debugOut = &buf
	t.Cleanup(func() { debugOut = old })

	k := NewKey("v1")
	k.Add("stage", "a\nb")
	tests := []struct {
		env, want string
	}{
		{"", ""},
		{"0", ""},
		{"1", "HASH salt v1\nHASH stage a\\nb\n"},
	}
	for _, tt := range tests {
		buf.Reset()
		t.Setenv(debugKeyEnv, tt.env)
		k.ID()
		if got := buf.String(); got != tt.want {
			t.Errorf("%s=%q: debug output %q, want %q", debugKeyEnv, tt.env, got, tt.want)
		}
	}
}

func TestParseIDs(t *testing.T) {
	out := NewOutputID([]byte("hello"))
	const helloHex = "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"
	if out.String() != helloHex {
		t.Fatalf("NewOutputID(hello) = %s, want %s", out, helloHex)
	}
	tests := []struct {
		in      string
		wantErr bool
	}{
		{helloHex, false},
		{strings.ToUpper(helloHex), false},
		{helloHex[:63], true},
		{helloHex + "0", true},
		{"zz" + helloHex[2:], true},
		{"", true},
	}
	for _, tt := range tests {
		o, err := ParseOutputID(tt.in)
		if (err != nil) != tt.wantErr {
			t.Errorf("ParseOutputID(%q) error = %v, want error %v", tt.in, err, tt.wantErr)
		}
		if err == nil && o != out {
			t.Errorf("ParseOutputID(%q) = %s, want %s", tt.in, o, out)
		}
		a, err := ParseActionID(tt.in)
		if (err != nil) != tt.wantErr {
			t.Errorf("ParseActionID(%q) error = %v, want error %v", tt.in, err, tt.wantErr)
		}
		if err == nil && a.String() != helloHex {
			t.Errorf("ParseActionID(%q) = %s, want %s", tt.in, a, helloHex)
		}
	}
}

func TestIDsJSON(t *testing.T) {
	type pair struct {
		A ActionID
		O OutputID
	}
	in := pair{NewKey("x").ID(), NewOutputID([]byte("y"))}
	b, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"A":"` + in.A.String() + `","O":"` + in.O.String() + `"}`
	if string(b) != want {
		t.Errorf("json = %s, want %s", b, want)
	}
	var got pair
	if err := json.Unmarshal(b, &got); err != nil || got != in {
		t.Errorf("round trip = %v, %v; want %v", got, err, in)
	}
	if err := json.Unmarshal([]byte(`{"A":"xyz"}`), &got); err == nil {
		t.Error("unmarshalling a bad ID succeeded")
	}
}

// TestReadOutputID checks that hashing as the bytes are read names them as NewOutputID
// does, across the read buffer's edges, and passes a read error on.
func TestReadOutputID(t *testing.T) {
	for _, size := range []int{0, 1, 32<<10 - 1, 32 << 10, 100<<10 + 7} {
		b := make([]byte, size)
		for i := range b {
			b[i] = byte(i*7 + i>>9)
		}
		got, err := ReadOutputID(bytes.NewReader(b))
		if want := NewOutputID(b); err != nil || got != want {
			t.Errorf("%d bytes: ReadOutputID = %v, %v; want %v", size, got, err, want)
		}
	}
	if _, err := ReadOutputID(iotest.ErrReader(errors.New("disk"))); err == nil {
		t.Error("ReadOutputID of a failing reader: no error")
	}
}

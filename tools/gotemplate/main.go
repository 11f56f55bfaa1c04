// Command gotemplate renders Go text/template cases with the real Go engine. It is the
// reference the TypeScript engine (src/template/go) is tested against.
//
//	go run tools/gotemplate/main.go -update test/template/go/cases  # fill "output"/"error" of every case
//	go run tools/gotemplate/main.go -stream                        # JSON lines in on stdin, JSON lines out
//	go run tools/gotemplate/main.go -bench FILE -seconds 2          # render FILE's case repeatedly, print renders/s
//
// The program has no go.mod (the repository is not a Go module), so it is run by file name.
// Cases render as a template named "t". Stream requests are {"id", "template", "data"?, "delims"?};
// answers are {"id", "output"} or {"id", "error"}. Bench prints one JSON object with renders,
// seconds, bytes, rendersPerSec, mbPerSec, parseMs and the sha256 of the output.
//
// Data is "typed JSON" so Go types survive the trip through JSON (see decodeTyped); the
// TypeScript mirror is test/template/go/typed-data.ts. The function map (testFuncs) is
// mirrored by test/template/go/testfuncs.ts: change both together.
package main

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"math"
	"os"
	"path"
	"path/filepath"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"text/template"
	"time"
	"unicode/utf8"
)

// Case is one golden case. Field order here is the order written back to the files.
type Case struct {
	Name     string `json:"name"`
	Template string `json:"template,omitempty"`
	// TemplateHex replaces Template for a template that is not valid UTF-8 (a Latin-1 file): its bytes in hex.
	TemplateHex string          `json:"templateHex,omitempty"`
	Data        json.RawMessage `json:"data,omitempty"`
	Delims      []string        `json:"delims,omitempty"`
	Output      *string         `json:"output,omitempty"`
	Error       *string         `json:"error,omitempty"`
	// OutputHex and ErrorHex replace Output and Error when they are not valid UTF-8 (JSON would
	// turn each invalid byte into U+FFFD): the bytes in hex.
	OutputHex *string `json:"outputHex,omitempty"`
	ErrorHex  *string `json:"errorHex,omitempty"`
}

// KV is the struct with methods returned by kv and built by {"$kv": [k, v]}.
type KV struct {
	Key   string
	Value string
}

func (k KV) Joined() string              { return k.Key + "=" + k.Value }
func (k KV) Pair(sep string) string      { return k.Key + sep + k.Value }
func (k KV) Check() (string, error)      { return "", errors.New("kv check failed for " + k.Key) }
func (k KV) Both(a int, b string) string { return fmt.Sprintf("%s:%d:%s", k.Key, a, b) }

var testFuncs = template.FuncMap{
	"add":   func(a, b int) int { return a + b },
	"upper": strings.ToUpper,
	"fail":  func(s string) (string, error) { return "", errors.New("fail: " + s) },
	"check": func(s string) (string, error) {
		if s == "bad" {
			return "", errors.New("bad value")
		}
		return "checked " + s, nil
	},
	"split": strings.Split,
	"join":  strings.Join,
	"vsum": func(prefix string, n ...int) string {
		sum := 0
		for _, v := range n {
			sum += v
		}
		return prefix + strconv.Itoa(sum)
	},
	"boom": func() string { panic("boom!") },
	"kv":   func(k, v string) KV { return KV{k, v} },
	"mkmap": func() map[string]interface{} {
		return map[string]interface{}{"a": 1, "b": "two", "c": []interface{}{1, 2.5}}
	},
	"fl":      func(f float64) float64 { return f * 1.5 },
	"base":    path.Base,
	"seq":     seq,
	"repeat":  repeat,
	"nilf":    func() interface{} { return nil },
	"mkfunc":  func() func(int) int { return func(x int) int { return x * 10 } },
	"atoi":    strconv.Atoi,
	"ints":    func(n ...int) []int { return n },
	"nilints": func() []int { return nil },
}

// repeat and seq refuse huge results: the fuzzer chains them through variables, and an
// exponentially long string would take both engines down.
const maxResult = 1 << 16

func repeat(s string, n int) (string, error) {
	if n > 0 && len(s)*n > maxResult {
		return "", fmt.Errorf("repeat: result longer than %d bytes", maxResult)
	}
	return strings.Repeat(s, n), nil
}

func seq(first, last int) ([]int, error) {
	// last-first wraps for bounds far apart (MinInt64, 12): such a range is refused too, and so is
	// last = MaxInt64, where i <= last never fails.
	if last >= first && (last-first >= maxResult || last-first < 0 || last == math.MaxInt64) {
		return nil, fmt.Errorf("seq: more than %d numbers", maxResult)
	}
	// As confd's seq: appending to a nil slice, so an empty range gives a nil []int.
	var out []int
	for i := first; i <= last; i++ {
		out = append(out, i)
	}
	return out, nil
}

// decodeTyped turns generic JSON (decoded with UseNumber) into Go values:
// integer numbers are int, other numbers float64, objects map[string]interface{},
// arrays []interface{}, and single-key "$..." objects are typed values.
func decodeTyped(v interface{}) (interface{}, error) {
	switch x := v.(type) {
	case nil, string, bool:
		return x, nil
	case json.Number:
		s := x.String()
		if !strings.ContainsAny(s, ".eE") {
			i, err := strconv.Atoi(s)
			// JavaScript's JSON.parse would round it: such ints must be spelled {"$int": "N"}.
			if err == nil && (i > 1<<53-1 || i < -(1<<53-1)) {
				return nil, fmt.Errorf("integer %s beyond 2^53: write it as {\"$int\": \"%s\"}", s, s)
			}
			return i, err
		}
		f, err := x.Float64()
		// JavaScript's JSON.parse cannot tell 2.0 from 2, so the TypeScript side would read an
		// int: integral floats must be spelled {"$float": 2}.
		if err == nil && f == float64(int64(f)) {
			return nil, fmt.Errorf("integral float %s: write it as {\"$float\": %s}", s, s)
		}
		return f, err
	case []interface{}:
		out := make([]interface{}, len(x))
		for i, e := range x {
			d, err := decodeTyped(e)
			if err != nil {
				return nil, err
			}
			out[i] = d
		}
		return out, nil
	case map[string]interface{}:
		if len(x) == 1 {
			for k, inner := range x {
				if strings.HasPrefix(k, "$") {
					return decodeTag(k, inner)
				}
			}
		}
		out := make(map[string]interface{}, len(x))
		for k, e := range x {
			d, err := decodeTyped(e)
			if err != nil {
				return nil, err
			}
			out[k] = d
		}
		return out, nil
	}
	return nil, fmt.Errorf("unexpected JSON value %T", v)
}

func decodeTag(tag string, inner interface{}) (interface{}, error) {
	switch tag {
	case "$float":
		n, ok := inner.(json.Number)
		if !ok {
			return nil, errors.New("$float needs a number")
		}
		return n.Float64()
	case "$int":
		// JavaScript's JSON.parse rounds integers beyond 2^53: those are spelled as strings.
		s, ok := inner.(string)
		if !ok {
			return nil, errors.New("$int needs a string of digits")
		}
		return strconv.Atoi(s)
	case "$uint8":
		n, ok := inner.(json.Number)
		if !ok {
			return nil, errors.New("$uint8 needs a number")
		}
		i, err := strconv.ParseUint(n.String(), 10, 8)
		return uint8(i), err
	case "$strings":
		arr, _ := inner.([]interface{})
		out := make([]string, len(arr))
		for i, e := range arr {
			s, ok := e.(string)
			if !ok {
				return nil, errors.New("$strings needs strings")
			}
			out[i] = s
		}
		return out, nil
	case "$ints":
		arr, _ := inner.([]interface{})
		out := make([]int, len(arr))
		for i, e := range arr {
			n, ok := e.(json.Number)
			if !ok {
				return nil, errors.New("$ints needs numbers")
			}
			v, err := strconv.Atoi(n.String())
			if err != nil {
				return nil, err
			}
			out[i] = v
		}
		return out, nil
	case "$bytes":
		// Go strings that need not be UTF-8: "hex" is a string, ["hex", ...] a []string.
		if h, ok := inner.(string); ok {
			b, err := hex.DecodeString(h)
			return string(b), err
		}
		arr, _ := inner.([]interface{})
		out := make([]string, len(arr))
		for i, e := range arr {
			h, _ := e.(string)
			b, err := hex.DecodeString(h)
			if err != nil {
				return nil, err
			}
			out[i] = string(b)
		}
		return out, nil
	case "$bytesmap":
		// [["hex key", value], ...]: a map[string]interface{} whose keys need not be UTF-8.
		arr, _ := inner.([]interface{})
		m := map[string]interface{}{}
		for _, e := range arr {
			pair, _ := e.([]interface{})
			if len(pair) != 2 {
				return nil, errors.New("$bytesmap needs [hex key, value] pairs")
			}
			h, _ := pair[0].(string)
			k, err := hex.DecodeString(h)
			if err != nil {
				return nil, err
			}
			v, err := decodeTyped(pair[1])
			if err != nil {
				return nil, err
			}
			m[string(k)] = v
		}
		return m, nil
	case "$kv":
		arr, _ := inner.([]interface{})
		if len(arr) != 2 {
			return nil, errors.New("$kv needs [key, value]")
		}
		k, _ := arr[0].(string)
		v, _ := arr[1].(string)
		return KV{k, v}, nil
	case "$struct":
		arr, _ := inner.([]interface{})
		fields := make([]reflect.StructField, len(arr))
		values := make([]reflect.Value, len(arr))
		for i, e := range arr {
			pair, _ := e.([]interface{})
			if len(pair) != 2 {
				return nil, errors.New("$struct needs [name, value] pairs")
			}
			name, _ := pair[0].(string)
			d, err := decodeTyped(pair[1])
			if err != nil {
				return nil, err
			}
			var t reflect.Type
			var val reflect.Value
			if d == nil {
				t = reflect.TypeOf((*interface{})(nil)).Elem()
				val = reflect.Zero(t)
			} else {
				val = reflect.ValueOf(d)
				t = val.Type()
			}
			fields[i] = reflect.StructField{Name: name, Type: t}
			values[i] = val
		}
		sv := reflect.New(reflect.StructOf(fields)).Elem()
		for i, v := range values {
			sv.Field(i).Set(v)
		}
		return sv.Interface(), nil
	}
	return nil, fmt.Errorf("unknown tag %s", tag)
}

func parseData(raw json.RawMessage) (interface{}, error) {
	if len(raw) == 0 {
		return nil, nil
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var generic interface{}
	if err := dec.Decode(&generic); err != nil {
		return nil, err
	}
	return decodeTyped(generic)
}

func build(name, text string, delims []string) (*template.Template, error) {
	t := template.New(name).Funcs(testFuncs)
	if len(delims) == 2 {
		t = t.Delims(delims[0], delims[1])
	}
	return t.Parse(text)
}

// render returns Go's output, or the error text verbatim. Execute writes partial output
// before failing; only the error is recorded.
func render(name, text string, delims []string, data interface{}) (out string, errText string, failed bool) {
	defer func() {
		if r := recover(); r != nil {
			out, errText, failed = "", fmt.Sprintf("PANIC: %v", r), true
		}
	}()
	t, err := build(name, text, delims)
	if err != nil {
		return "", err.Error(), true
	}
	var buf bytes.Buffer
	if err := t.Execute(&buf, data); err != nil {
		return "", err.Error(), true
	}
	return buf.String(), "", false
}

func updateDir(dir string) error {
	files, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil {
		return err
	}
	sort.Strings(files)
	total := 0
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			return err
		}
		var cases []Case
		if err := json.Unmarshal(raw, &cases); err != nil {
			return fmt.Errorf("%s: %w", f, err)
		}
		seen := map[string]bool{}
		for i := range cases {
			c := &cases[i]
			if seen[c.Name] {
				return fmt.Errorf("%s: duplicate case name %q", f, c.Name)
			}
			seen[c.Name] = true
			data, err := parseData(c.Data)
			if err != nil {
				return fmt.Errorf("%s: case %q: data: %w", f, c.Name, err)
			}
			text := c.Template
			if c.TemplateHex != "" {
				b, err := hex.DecodeString(c.TemplateHex)
				if err != nil {
					return fmt.Errorf("%s: case %q: templateHex: %w", f, c.Name, err)
				}
				text = string(b)
			}
			out, errText, failed := render("t", text, c.Delims, data)
			c.Output, c.Error, c.OutputHex, c.ErrorHex = nil, nil, nil, nil
			if failed {
				if utf8.ValidString(errText) {
					c.Error = &errText
				} else {
					h := hex.EncodeToString([]byte(errText))
					c.ErrorHex = &h
				}
			} else if utf8.ValidString(out) {
				c.Output = &out
			} else {
				h := hex.EncodeToString([]byte(out))
				c.OutputHex = &h
			}
		}
		if err := os.WriteFile(f, formatCases(cases), 0o644); err != nil {
			return err
		}
		total += len(cases)
	}
	fmt.Fprintf(os.Stderr, "%d files, %d cases updated\n", len(files), total)
	return nil
}

// formatCases writes one field per line and keeps data compact, so a case reads (and
// diffs) as a few lines.
func formatCases(cases []Case) []byte {
	var buf bytes.Buffer
	enc := func(v interface{}) string {
		var b bytes.Buffer
		e := json.NewEncoder(&b)
		e.SetEscapeHTML(false)
		_ = e.Encode(v)
		return strings.TrimSuffix(b.String(), "\n")
	}
	buf.WriteString("[\n")
	for i, c := range cases {
		buf.WriteString("  {\n    \"name\": " + enc(c.Name))
		if c.TemplateHex != "" {
			buf.WriteString(",\n    \"templateHex\": " + enc(c.TemplateHex))
		} else {
			buf.WriteString(",\n    \"template\": " + enc(c.Template))
		}
		if len(c.Data) > 0 {
			var compact bytes.Buffer
			if err := json.Compact(&compact, c.Data); err == nil {
				buf.WriteString(",\n    \"data\": " + compact.String())
			}
		}
		if len(c.Delims) > 0 {
			buf.WriteString(",\n    \"delims\": " + enc(c.Delims))
		}
		if c.Output != nil {
			buf.WriteString(",\n    \"output\": " + enc(*c.Output))
		}
		if c.Error != nil {
			buf.WriteString(",\n    \"error\": " + enc(*c.Error))
		}
		if c.OutputHex != nil {
			buf.WriteString(",\n    \"outputHex\": " + enc(*c.OutputHex))
		}
		if c.ErrorHex != nil {
			buf.WriteString(",\n    \"errorHex\": " + enc(*c.ErrorHex))
		}
		buf.WriteString("\n  }")
		if i < len(cases)-1 {
			buf.WriteString(",")
		}
		buf.WriteString("\n")
	}
	buf.WriteString("]\n")
	return buf.Bytes()
}

type streamIn struct {
	ID       int             `json:"id"`
	Template string          `json:"template"`
	Data     json.RawMessage `json:"data,omitempty"`
	Delims   []string        `json:"delims,omitempty"`
}

// streamOut gives an output or error that is not valid UTF-8 as OutputHex or ErrorHex (JSON would
// turn each invalid byte into U+FFFD, and the caller would see a difference that is not there).
type streamOut struct {
	ID        int     `json:"id"`
	Output    *string `json:"output,omitempty"`
	Error     *string `json:"error,omitempty"`
	OutputHex *string `json:"outputHex,omitempty"`
	ErrorHex  *string `json:"errorHex,omitempty"`
}

func stream() error {
	in := bufio.NewScanner(os.Stdin)
	in.Buffer(make([]byte, 1<<20), 64<<20)
	w := bufio.NewWriter(os.Stdout)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	for in.Scan() {
		var req streamIn
		if err := json.Unmarshal(in.Bytes(), &req); err != nil {
			return err
		}
		resp := streamOut{ID: req.ID}
		data, err := parseData(req.Data)
		if err != nil {
			msg := "DATA: " + err.Error()
			resp.Error = &msg
		} else {
			out, errText, failed := render("t", req.Template, req.Delims, data)
			if failed && utf8.ValidString(errText) {
				resp.Error = &errText
			} else if failed {
				h := hex.EncodeToString([]byte(errText))
				resp.ErrorHex = &h
			} else if utf8.ValidString(out) {
				resp.Output = &out
			} else {
				h := hex.EncodeToString([]byte(out))
				resp.OutputHex = &h
			}
		}
		if err := enc.Encode(resp); err != nil {
			return err
		}
		// The caller waits for each answer before sending more only when it chooses to;
		// flushing per line keeps a lock-step caller from deadlocking.
		if err := w.Flush(); err != nil {
			return err
		}
	}
	return in.Err()
}

func bench(file string, seconds float64) error {
	raw, err := os.ReadFile(file)
	if err != nil {
		return err
	}
	var c Case
	if err := json.Unmarshal(raw, &c); err != nil {
		return err
	}
	data, err := parseData(c.Data)
	if err != nil {
		return err
	}
	parseStart := time.Now()
	t, err := build("bench", c.Template, c.Delims)
	if err != nil {
		return err
	}
	parseSecs := time.Since(parseStart).Seconds()
	var buf bytes.Buffer
	// One warm-up render sizes the buffer and fails fast on a broken template.
	if err := t.Execute(&buf, data); err != nil {
		return err
	}
	size := buf.Len()
	sum := sha256.Sum256(buf.Bytes())
	renders := 0
	start := time.Now()
	deadline := start.Add(time.Duration(seconds * float64(time.Second)))
	for renders == 0 || time.Now().Before(deadline) {
		buf.Reset()
		if err := t.Execute(&buf, data); err != nil {
			return err
		}
		renders++
	}
	elapsed := time.Since(start).Seconds()
	return json.NewEncoder(os.Stdout).Encode(map[string]interface{}{
		"renders":       renders,
		"seconds":       elapsed,
		"bytes":         size,
		"rendersPerSec": float64(renders) / elapsed,
		"mbPerSec":      float64(renders) * float64(size) / elapsed / 1e6,
		"parseMs":       parseSecs * 1000,
		"sha256":        hex.EncodeToString(sum[:]),
	})
}

func main() {
	update := flag.String("update", "", "directory of case files whose output/error fields are regenerated")
	streamMode := flag.Bool("stream", false, "render JSON-line requests from stdin, answer JSON lines on stdout")
	benchFile := flag.String("bench", "", "case file (one JSON object) to render repeatedly")
	seconds := flag.Float64("seconds", 2, "bench duration in seconds")
	flag.Parse()
	var err error
	switch {
	case *update != "":
		err = updateDir(*update)
	case *streamMode:
		err = stream()
	case *benchFile != "":
		err = bench(*benchFile, *seconds)
	default:
		flag.Usage()
		os.Exit(2)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "gotemplate:", err)
		os.Exit(1)
	}
}

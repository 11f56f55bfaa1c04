// Command fmt-golden records what Go's fmt, strconv and text/template print, as the golden file the
// TypeScript port (src/template/go/fmt.ts, strconv.ts, escape.ts) is tested against.
//
//	go run tools/fmt-golden/main.go > test/template/go/fmt-golden.json
//	go run tools/fmt-golden/main.go -isprint      # the PRINT_RANGES table of src/template/go/strconv.ts
//
// Every argument is written in a small tagged encoding that test/template/go/fmt-golden.test.ts turns
// back into the JavaScript value model of src/template/go/value.ts. The output is deterministic.
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"math/rand"
	"os"
	"reflect"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"text/template"
	"unicode"
	"unicode/utf8"
)

// Types whose methods the test file re-creates in JavaScript with the same behaviour.

type KV struct{ Key, Value string }

type Strg struct{ S string }

func (s Strg) String() string { return "S<" + s.S + ">" }

type Errv struct{ M string }

func (e Errv) Error() string { return "E:" + e.M }

// Both has Error and String: fmt prefers Error.
type Both struct{ N int }

func (b Both) Error() string  { return "both-error" }
func (b Both) String() string { return "both-string" }

type Panicky struct{ N int }

func (p Panicky) String() string { panic("boom") }

type GoStr struct{ A int }

func (g GoStr) GoString() string { return "GoStr!" }

type Mixed struct {
	Name string
	N    int
	F    float64
	Any  interface{}
	L    []string
}

type Nested struct {
	Inner KV
	M     map[string]interface{}
}

// enc writes a value in the tagged form the test file decodes.
func enc(v interface{}) interface{} {
	if v == nil {
		return map[string]interface{}{"t": "nil"}
	}
	rv := reflect.ValueOf(v)
	return encValue(rv)
}

func encValue(rv reflect.Value) interface{} {
	switch rv.Kind() {
	case reflect.Interface:
		if rv.IsNil() {
			return map[string]interface{}{"t": "nil"}
		}
		return encValue(rv.Elem())
	case reflect.Int:
		return map[string]interface{}{"t": "int", "v": rv.Int()}
	case reflect.Uint8:
		return map[string]interface{}{"t": "uint8", "v": rv.Uint()}
	case reflect.Float64:
		return map[string]interface{}{"t": "float64", "bits": fmt.Sprintf("%016x", math.Float64bits(rv.Float()))}
	case reflect.String:
		return map[string]interface{}{"t": "string", "v": rv.String()}
	case reflect.Bool:
		return map[string]interface{}{"t": "bool", "v": rv.Bool()}
	case reflect.Slice:
		elems := []interface{}{}
		for i := 0; i < rv.Len(); i++ {
			elems = append(elems, encValue(rv.Index(i)))
		}
		return map[string]interface{}{"t": "slice", "type": rv.Type().String(), "v": elems}
	case reflect.Map:
		// MapRange rather than MapIndex: a NaN key cannot be looked up.
		type entry struct{ k, v reflect.Value }
		var all []entry
		for it := rv.MapRange(); it.Next(); {
			all = append(all, entry{it.Key(), it.Value()})
		}
		// Reverse of the printed order, so the decoder's insertion order never already sorts them.
		sort.Slice(all, func(i, j int) bool { return fmt.Sprint(all[i].k) > fmt.Sprint(all[j].k) })
		entries := []interface{}{}
		for _, e := range all {
			entries = append(entries, []interface{}{encValue(e.k), encValue(e.v)})
		}
		return map[string]interface{}{"t": "map", "type": rv.Type().String(), "v": entries}
	case reflect.Struct:
		fields := []interface{}{}
		for i := 0; i < rv.NumField(); i++ {
			fields = append(fields, []interface{}{rv.Type().Field(i).Name, encValue(rv.Field(i))})
		}
		return map[string]interface{}{"t": "struct", "type": rv.Type().String(), "v": fields}
	}
	panic("enc: unsupported kind " + rv.Kind().String())
}

func encArgs(args []interface{}) []interface{} {
	out := []interface{}{}
	for _, a := range args {
		out = append(out, enc(a))
	}
	return out
}

func checkUTF8(s string) string {
	if !utf8.ValidString(s) {
		panic(fmt.Sprintf("output is not valid UTF-8: %q", s))
	}
	return s
}

type sprintfGroup struct {
	Args  []interface{} `json:"args"`
	Cases [][2]string   `json:"cases"`
}

type sprintCase struct {
	Args     []interface{} `json:"args"`
	Sprint   string        `json:"sprint"`
	Sprintln string        `json:"sprintln"`
}

type valueCase struct {
	Arg interface{} `json:"arg"`
	Out string      `json:"out"`
}

type escapeCase struct {
	Args     []interface{} `json:"args"`
	HTML     string        `json:"html"`
	JS       string        `json:"js"`
	URLQuery string        `json:"urlquery"`
}

type floatCase struct {
	Bits  string           `json:"bits"`
	Cases [][3]interface{} `json:"cases"`
}

type quoteCase struct {
	S       string `json:"s"`
	Quote   string `json:"quote"`
	ASCII   string `json:"ascii"`
	CanBack bool   `json:"canBackquote"`
}

type runeCase struct {
	R     int    `json:"r"`
	Quote string `json:"quote"`
	ASCII string `json:"ascii"`
	Print bool   `json:"isPrint"`
}

type golden struct {
	Go      string         `json:"go"`
	Sprintf []sprintfGroup `json:"sprintf"`
	Sprint  []sprintCase   `json:"sprint"`
	Value   []valueCase    `json:"value"`
	Escape  []escapeCase   `json:"escape"`
	Float   []floatCase    `json:"float"`
	Quote   []quoteCase    `json:"quote"`
	Rune    []runeCase     `json:"rune"`
}

var (
	intValues    = []interface{}{0, 1, -1, 7, 42, -42, 255, 256, 65535, 1234567, -9876543210, 9007199254740991, -9007199254740991}
	uint8Values  = []interface{}{uint8(0), uint8(9), uint8(200), uint8(255)}
	floatValues  = []interface{}{0.0, math.Copysign(0, -1), 1.0, -1.5, 3.14159, 2.5, 0.125, 0.1, 1e6, 1.234567e6, 123456789.0, 1e-5, 0.0001, 1e21, 1e100, -2.5e-10, 5e-324, math.MaxFloat64, math.NaN(), math.Inf(1), math.Inf(-1)}
	stringValues = []interface{}{"", "a", "hello", "héllo wörld", "日本語", "a\tb\nc", "\x00\x07\x7f", "\u00ad\u200b", "😀x", "\"q'`\\", "\ufeffbom", "ünïcödé"}
	boolValues   = []interface{}{true, false}
	runeValues   = []interface{}{65, 0x263a, 0x1F600, 0x7f, 0xD800, 0x110000, -1, 10}
)

func compositeValues() []interface{} {
	return []interface{}{
		nil,
		[]interface{}{"a", 1, nil, 1.5, true},
		[]interface{}{},
		[]string{"x", "y z"},
		[]int{1, -2, 300},
		[]byte{0x41, 0x00, 0xff},
		[]interface{}{[]interface{}{"n", 2}, map[string]interface{}{"k": "v"}},
		map[string]interface{}{"b": 2, "a": "x", "c": nil, "A": 1.5, "é": true, "😀": "e"},
		map[string]string{"zeta": "1", "alpha": "2", "Mid": "3"},
		map[int]string{10: "ten", -1: "neg", 2: "two"},
		map[string]interface{}{},
		KV{"/app/port", "8080"},
		[]KV{{"/a", "1"}, {"/b", "2"}},
		Mixed{"n", 3, 2.5, nil, []string{"p"}},
		Mixed{"m", -1, 1e6, "any", []string{}},
		Nested{KV{"k", "v"}, map[string]interface{}{"x": []interface{}{1, "s"}}},
		Strg{"x"},
		[]interface{}{Strg{"in"}, Errv{"e"}},
		Errv{"bad"},
		Both{1},
		Panicky{2},
		GoStr{3},
		map[string]interface{}{"s": Strg{"v"}},
		map[float64]string{2.5: "a", -1: "b", math.NaN(): "n", math.Inf(1): "i", 0: "z"},
		map[bool]int{true: 1, false: 0},
		map[string]interface{}{"\uff01": 1, "\U0001f600": 2, "a": 3, "\u00e9": 4, "B": 5},
	}
}

func main() {
	isprint := flag.Bool("isprint", false, "print the unicode.IsPrint range table for strconv.ts")
	flag.Parse()
	if *isprint {
		printRanges()
		return
	}
	g := golden{Go: runtime.Version()}
	g.Sprintf = sprintfGroups()
	g.Sprint = sprintCases()
	g.Value = valueCases()
	g.Escape = escapeCases()
	g.Float = floatCases()
	g.Quote, g.Rune = quoteCases()

	var buf bytes.Buffer
	e := json.NewEncoder(&buf)
	e.SetEscapeHTML(false)
	if err := e.Encode(g); err != nil {
		panic(err)
	}
	// One group per line keeps diffs of the golden file readable.
	out := strings.ReplaceAll(buf.String(), `]},{"args"`, "]},\n{\"args\"")
	out = strings.ReplaceAll(out, `},{"bits"`, "},\n{\"bits\"")
	os.Stdout.WriteString(out)
}

func addCases(groups *[]sprintfGroup, args []interface{}, formats []string) {
	grp := sprintfGroup{Args: encArgs(args)}
	seen := map[string]bool{}
	for _, f := range formats {
		if seen[f] {
			continue
		}
		seen[f] = true
		out := fmt.Sprintf(f, args...)
		if !utf8.ValidString(out) {
			// Invalid UTF-8 (such as %s of a []byte holding 0xff) has no JavaScript string to compare with.
			continue
		}
		grp.Cases = append(grp.Cases, [2]string{f, out})
	}
	*groups = append(*groups, grp)
}

// combos builds "%" + flags + width + precision + verb for every combination.
func combos(flags, widths, precs, verbs []string) []string {
	var out []string
	for _, v := range verbs {
		for _, f := range flags {
			for _, w := range widths {
				for _, p := range precs {
					out = append(out, "%"+f+w+p+v)
				}
			}
		}
	}
	return out
}

func sprintfGroups() []sprintfGroup {
	var groups []sprintfGroup
	allVerbs := []string{"v", "s", "q", "d", "x", "X", "o", "O", "b", "e", "E", "f", "F", "g", "G", "t", "c", "U", "T"}
	intVerbs := []string{"v", "d", "x", "X", "o", "O", "b", "c", "q", "U"}
	floatVerbs := []string{"v", "e", "E", "f", "F", "g", "G", "x", "X", "b"}
	strVerbs := []string{"v", "s", "q", "x", "X"}
	numFlags := []string{"", "-", "+", "#", " ", "0", "+0", "-0", "# ", "#0", " 0", "+-"}

	// Every verb with the plain, %+v and %#v forms, a width and a precision, for every kind of value.
	basic := combos([]string{"", "+", "#"}, []string{"", "8"}, []string{"", ".2"}, allVerbs)
	for _, vals := range [][]interface{}{intValues, uint8Values, floatValues, stringValues, boolValues, compositeValues()} {
		for _, v := range vals {
			addCases(&groups, []interface{}{v}, basic)
		}
	}
	// Flags in depth for the kinds whose output they shape.
	for _, v := range []interface{}{0, 7, -42, 255, 1234567, uint8(0), uint8(200)} {
		addCases(&groups, []interface{}{v}, combos(numFlags, []string{"", "1", "6"}, []string{"", ".0", ".3"}, intVerbs))
	}
	for _, v := range runeValues {
		addCases(&groups, []interface{}{v}, combos([]string{"", "-", "+", "#", "0"}, []string{"", "6"}, []string{"", ".6"}, []string{"c", "q", "U", "x"}))
	}
	for _, v := range []interface{}{0.0, math.Copysign(0, -1), -1.5, 3.14159, 2.5, 1e6, 1e-5, 1e21, math.NaN(), math.Inf(-1)} {
		addCases(&groups, []interface{}{v}, combos(numFlags, []string{"", "12"}, []string{"", ".0", ".3"}, floatVerbs))
	}
	for _, v := range stringValues {
		addCases(&groups, []interface{}{v}, combos([]string{"", "-", "+", "#", " ", "0", "# ", "#-", "+#"}, []string{"", "2", "9"}, []string{"", ".0", ".1", ".3"}, strVerbs))
	}
	for _, v := range []interface{}{[]byte("héllo\x00"), []byte{}, []string{"ab", "ç"}, []interface{}{"x", 10}} {
		addCases(&groups, []interface{}{v}, combos([]string{"", "-", "#", " ", "# ", "0"}, []string{"", "5", "14"}, []string{"", ".2"}, strVerbs))
	}
	// Formats with several arguments: indexes, star width and precision, missing and extra operands.
	multi := []struct {
		args    []interface{}
		formats []string
	}{
		{[]interface{}{"a", 1, 2.5}, []string{
			"%s %d %v", "%[2]d %[1]s", "%[3]v %[1]q %v", "%[1]s%[1]s%s", "%d %d %d", "%s", "", "plain",
			"%[0]d", "%[4]d", "%[x]d", "%[2]", "%[2]*d", "%[", "%[]d", "%[1]2d", "%[1].2d", "%[2]*[1]d",
			"%!", "%", "x%", "%%", "%5%", "%-5%|", "100%% %s", "%z", "%☺", "%d%", "%.", "%.d", "%.*d", "%*",
		}},
		{[]interface{}{5, "x"}, []string{"%*s", "%-*s|", "%.*s", "%*d", "%[2]*[1]s", "%*.*s", "%[1]*[2]s"}},
		{[]interface{}{-5, "xyz"}, []string{"%*s|", "%.*s|", "%0*s|"}},
		{[]interface{}{"5", "x"}, []string{"%*s", "%.*s", "%*.*s"}},
		{[]interface{}{uint8(3), 2, 3.14159}, []string{"%*d|%f", "%.*[3]f", "%*.*f", "%[3]*.[2]*[1]f"}},
		{[]interface{}{10000000, "x"}, []string{"%*s", "%.*s"}},
		{[]interface{}{1, "a", nil, 2.5, []int{1}, true}, []string{"", "%d", "%v %v", "%T %T %T %T %T %T"}},
		{[]interface{}{nil}, []string{"%v", "%d", "%s", "%T", "%5v", "%-6v|", "%+v", "%#v", "%q", "%x"}},
		{[]interface{}{}, []string{"%d", "%s %v", "%[1]d", "%*d", "%.*d", "abc", "%%", "%!"}},
		{[]interface{}{"café", "日本語"}, []string{"%-6s|%6s", "%.2s|%.1s", "%6.2s|%-4.1q|", "%x %X", "% x", "%#x", "%# X", "%08q"}},
		{[]interface{}{3, 4}, []string{"%[2]d %[1]d %d", "%[2]d %d %d", "%[1]d", "%[2]d", "%d %[1]d %d %d"}},
		{[]interface{}{1.5}, []string{"%d", "%s", "%t", "%c", "%q", "%U", "%o", "%O"}},
		{[]interface{}{true}, []string{"%d", "%s", "%x", "%5t|", "%-7t|", "%q", "%v"}},
		{[]interface{}{"x"}, []string{"%d", "%5d", "%-5d|", "%t", "%c", "%e", "%b", "%o", "%U"}},
		{[]interface{}{map[string]interface{}{"a": 1}}, []string{"%d", "%s", "%x", "%q", "%5v", "%t", "%w"}},
		{[]interface{}{Errv{"x"}, KV{"a", "b"}, []interface{}{"s", 1}, "s", 1, nil, Strg{"y"}}, []string{"%w %w %w %w %w %w %w", "%[2]w"}},
	}
	for _, m := range multi {
		addCases(&groups, m.args, m.formats)
	}
	return groups
}

func sprintCases() []sprintCase {
	argLists := [][]interface{}{
		{}, {"a"}, {1}, {1, 2}, {"a", "b"}, {"a", 1, "b"}, {1, "a", 2}, {1, 2, "a", 3, 4},
		{nil}, {nil, nil}, {1, nil, "x", nil}, {1.5, 2.0, 1e6}, {true, false, "t"},
		{[]interface{}{"a", 1}, map[string]interface{}{"k": 1}}, {KV{"k", "v"}, 3},
		{Strg{"a"}, Strg{"b"}}, {Errv{"e"}, "s"}, {uint8(1), uint8(2)}, {"", ""}, {"", 1, ""},
		{[]byte("ab"), "c"},
	}
	var out []sprintCase
	for _, a := range argLists {
		out = append(out, sprintCase{Args: encArgs(a), Sprint: checkUTF8(fmt.Sprint(a...)), Sprintln: fmt.Sprintln(a...)})
	}
	return out
}

func valueCases() []valueCase {
	vals := []interface{}{nil}
	for _, list := range [][]interface{}{intValues, uint8Values, floatValues, stringValues, boolValues, compositeValues()} {
		vals = append(vals, list...)
	}
	tmpl := template.Must(template.New("v").Parse("{{.}}"))
	var out []valueCase
	for _, v := range vals {
		var b bytes.Buffer
		if err := tmpl.Execute(&b, v); err != nil {
			panic(err)
		}
		out = append(out, valueCase{Arg: enc(v), Out: checkUTF8(b.String())})
	}
	return out
}

func escapeCases() []escapeCase {
	argLists := [][]interface{}{
		{""}, {"plain"}, {`<a href="x">'&'</a>`}, {"a=b&c=d"}, {"tab\there\nnew\r\x00end\x1f"}, {"\\'\"<>&="},
		{"héllo wörld 日本 😀"}, {"\u00ad\u200b\u2028\u2029\ufeff\U000e0001"}, {"a b+c/d?e#f%g~h_i.j-k!l*m(n)o'p"},
		{"/path/with spaces"}, {nil}, {1}, {1, 2}, {"a", "b"}, {"a", 1}, {1, nil, 2}, {nil, nil}, {1.5},
		{[]interface{}{"<x>", 1}}, {map[string]interface{}{"k": "<v>"}}, {KV{"<", ">"}}, {Strg{"<&>"}}, {true},
	}
	var out []escapeCase
	for _, a := range argLists {
		c := escapeCase{Args: encArgs(a)}
		c.HTML = checkUTF8(template.HTMLEscaper(cloneArgs(a)...))
		c.JS = checkUTF8(template.JSEscaper(cloneArgs(a)...))
		c.URLQuery = checkUTF8(template.URLQueryEscaper(cloneArgs(a)...))
		out = append(out, c)
	}
	return out
}

// cloneArgs protects the argument list, which evalArgs rewrites in place.
func cloneArgs(a []interface{}) []interface{} { return append([]interface{}{}, a...) }

func floatCases() []floatCase {
	rng := rand.New(rand.NewSource(19))
	var xs []float64
	for _, v := range floatValues {
		xs = append(xs, v.(float64))
	}
	// Exact binary fractions hit the halfway cases where Go rounds to even.
	for _, v := range []float64{0.5, 1.5, 2.5, 3.5, 0.25, 0.375, 1.125, 2.675, 1.005, 1e23, 8.5e-7, 12.5, 125, 1250000, 0.3, 2.0 / 3, 100, 99.995, 9.9999995, 999999.5, 1e15 + 0.5, 4503599627370497.5, 1e22, 5e-5, 123456.5} {
		xs = append(xs, v, -v)
	}
	for i := 0; i < 150; i++ {
		xs = append(xs, math.Float64frombits(rng.Uint64()))
	}
	for i := 0; i < 200; i++ {
		// Numbers with few digits at every magnitude, like the values configuration holds.
		m := float64(rng.Intn(100000)) / math.Pow(10, float64(rng.Intn(6)))
		xs = append(xs, m*math.Pow(10, float64(rng.Intn(40)-20)))
	}
	for i := 0; i < 150; i++ {
		// Halfway cases at random magnitudes: k / 2^n.
		xs = append(xs, float64(rng.Intn(1<<20))/float64(uint64(1)<<uint(rng.Intn(30))))
	}
	type fp struct {
		f    byte
		prec int
	}
	var specs []fp
	for _, f := range []byte{'e', 'f', 'g'} {
		for _, p := range []int{-1, 0, 1, 2, 3, 6, 10, 17, 20, 40} {
			specs = append(specs, fp{f, p})
		}
	}
	specs = append(specs, fp{'E', -1}, fp{'E', 3}, fp{'G', -1}, fp{'G', 3})
	specs = append(specs, fp{'b', -1}, fp{'x', -1}, fp{'X', -1}, fp{'x', 0}, fp{'x', 3}, fp{'X', 14})
	// Long outputs (beyond JavaScript's 100-digit toFixed/toExponential) for a few values only.
	long := []fp{{'f', 120}, {'e', 120}, {'g', 800}}
	var out []floatCase
	for i, x := range xs {
		c := floatCase{Bits: fmt.Sprintf("%016x", math.Float64bits(x))}
		all := specs
		if i%20 == 0 {
			all = append(append([]fp{}, specs...), long...)
		}
		for _, s := range all {
			c.Cases = append(c.Cases, [3]interface{}{string(s.f), s.prec, strconv.FormatFloat(x, s.f, s.prec, 64)})
		}
		out = append(out, c)
	}
	return out
}

func quoteCases() ([]quoteCase, []runeCase) {
	strs := append([]string{}, "", "abc", "\a\b\f\n\r\t\v", "\x00\x01\x1b\x7f", "é日本😀", "\u00a0\u00ad\u0378\u2028\ufeff\ufffd",
		"\U000e0001\U0010ffff\U0001f9ff", "`back`", "tab\tonly", "q\"uote'", `back\slash`, "\u061c\u200e")
	var qs []quoteCase
	for _, s := range strs {
		qs = append(qs, quoteCase{S: s, Quote: strconv.Quote(s), ASCII: strconv.QuoteToASCII(s), CanBack: strconv.CanBackquote(s)})
	}
	var rs []runeCase
	rng := rand.New(rand.NewSource(7))
	runes := []int{0, 7, 9, 10, 31, 32, 39, 92, 126, 127, 128, 159, 160, 173, 0x377, 0x378, 0xfeff, 0xfffd, 0xfffe, 0xffff, 0x10000, 0x1f600, 0xe0001, 0x10ffff, 0xd800, 0x110000}
	for i := 0; i < 200; i++ {
		runes = append(runes, rng.Intn(0x30000))
	}
	for _, r := range runes {
		rs = append(rs, runeCase{R: r, Quote: strconv.QuoteRune(rune(r)), ASCII: strconv.QuoteRuneToASCII(rune(r)), Print: unicode.IsPrint(rune(r))})
	}
	return qs, rs
}

func printRanges() {
	var ranges []string
	in := false
	start := 0
	for c := 0; c <= unicode.MaxRune+1; c++ {
		p := c <= unicode.MaxRune && unicode.IsPrint(rune(c))
		if p && !in {
			start, in = c, true
		} else if !p && in {
			ranges = append(ranges, fmt.Sprintf("0x%x,0x%x,", start, c-1))
			in = false
		}
	}
	line := " "
	for _, r := range ranges {
		if len(line)+len(r)+1 > 110 {
			fmt.Println(line)
			line = " "
		}
		line += " " + r
	}
	fmt.Println(line)
}

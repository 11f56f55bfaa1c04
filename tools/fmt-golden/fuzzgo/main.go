// Command fuzzgo answers tools/fmt-golden/fuzz.ts: one JSON case per input line ({kind, format, args} in the
// tagged encoding of tools/fmt-golden/main.go), one JSON string per output line, as Go formats it.
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"strconv"
)

type KV struct{ Key, Value string }
type Strg struct{ S string }

func (s Strg) String() string { return "S<" + s.S + ">" }

type Errv struct{ M string }

func (e Errv) Error() string { return "E:" + e.M }

type Enc struct {
	T    string          `json:"t"`
	V    json.RawMessage `json:"v"`
	Bits string          `json:"bits"`
	Type string          `json:"type"`
}

func dec(e Enc) interface{} {
	switch e.T {
	case "nil":
		return nil
	case "int":
		var n int
		json.Unmarshal(e.V, &n)
		return n
	case "uint8":
		var n uint8
		json.Unmarshal(e.V, &n)
		return n
	case "float64":
		b, _ := strconv.ParseUint(e.Bits, 16, 64)
		return math.Float64frombits(b)
	case "string":
		var s string
		json.Unmarshal(e.V, &s)
		return s
	case "bool":
		var b bool
		json.Unmarshal(e.V, &b)
		return b
	case "slice":
		var elems []Enc
		json.Unmarshal(e.V, &elems)
		switch e.Type {
		case "[]string":
			out := []string{}
			for _, x := range elems {
				out = append(out, dec(x).(string))
			}
			return out
		case "[]int":
			out := []int{}
			for _, x := range elems {
				out = append(out, dec(x).(int))
			}
			return out
		case "[]uint8":
			out := []uint8{}
			for _, x := range elems {
				out = append(out, dec(x).(uint8))
			}
			return out
		default:
			out := []interface{}{}
			for _, x := range elems {
				out = append(out, dec(x))
			}
			return out
		}
	case "map":
		var entries [][2]Enc
		json.Unmarshal(e.V, &entries)
		switch e.Type {
		case "map[string]string":
			m := map[string]string{}
			for _, kv := range entries {
				m[dec(kv[0]).(string)] = dec(kv[1]).(string)
			}
			return m
		case "map[int]string":
			m := map[int]string{}
			for _, kv := range entries {
				m[dec(kv[0]).(int)] = dec(kv[1]).(string)
			}
			return m
		default:
			m := map[string]interface{}{}
			for _, kv := range entries {
				m[dec(kv[0]).(string)] = dec(kv[1])
			}
			return m
		}
	case "struct":
		var fields [][2]json.RawMessage
		json.Unmarshal(e.V, &fields)
		get := func(i int) interface{} {
			var x Enc
			json.Unmarshal(fields[i][1], &x)
			return dec(x)
		}
		switch e.Type {
		case "main.KV":
			return KV{get(0).(string), get(1).(string)}
		case "main.Strg":
			return Strg{get(0).(string)}
		case "main.Errv":
			return Errv{get(0).(string)}
		}
	}
	panic("bad enc " + e.T)
}

type Case struct {
	Kind   string `json:"kind"`
	Format string `json:"format"`
	Args   []Enc  `json:"args"`
}

func main() {
	in := bufio.NewScanner(os.Stdin)
	in.Buffer(make([]byte, 1<<20), 1<<24)
	out := bufio.NewWriter(os.Stdout)
	defer out.Flush()
	enc := json.NewEncoder(out)
	enc.SetEscapeHTML(false)
	for in.Scan() {
		var c Case
		if err := json.Unmarshal(in.Bytes(), &c); err != nil {
			panic(err)
		}
		args := []interface{}{}
		for _, a := range c.Args {
			args = append(args, dec(a))
		}
		var s string
		switch c.Kind {
		case "sprintf":
			s = fmt.Sprintf(c.Format, args...)
		case "sprint":
			s = fmt.Sprint(args...)
		}
		enc.Encode(s)
	}
}

package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path"
	"sort"
	"strconv"
	"strings"
	"text/template"
)

type KVPair struct {
	Key   string
	Value string
}

var store = map[string]string{
	"/app/name": "demo", "/app/port": "8080", "/app/json": `{"a":{"b":"c"},"n":1.5,"l":["x","y"]}`,
	"/svc/web/1": "10.0.0.1", "/svc/web/2": "10.0.0.2", "/svc/db/1": "10.0.1.1",
}

var funcs = template.FuncMap{
	"getv": func(k string, def ...string) (string, error) {
		if v, ok := store[k]; ok {
			return v, nil
		}
		if len(def) > 0 {
			return def[0], nil
		}
		return "", errors.New("key does not exist: " + k)
	},
	"gets": func(pattern string) ([]KVPair, error) {
		prefix := strings.TrimSuffix(pattern, "*")
		var out []KVPair
		for k, v := range store {
			if strings.HasPrefix(k, prefix) {
				out = append(out, KVPair{k, v})
			}
		}
		sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
		return out, nil
	},
	"base":  path.Base,
	"split": strings.Split,
	"join":  strings.Join,
	"atoi":  strconv.Atoi,
	"seq": func(a, b int) []int {
		out := []int{}
		for i := a; i <= b; i++ {
			out = append(out, i)
		}
		return out
	},
	"json": func(s string) (map[string]interface{}, error) {
		var m map[string]interface{}
		err := json.Unmarshal([]byte(s), &m)
		return m, err
	},
	"upper": strings.ToUpper,
}

type Case struct {
	Name   string            `json:"name"`
	Tmpl   string            `json:"template"`
	Data   string            `json:"data"`
	Delims []string          `json:"delims,omitempty"`
	Output *string           `json:"output,omitempty"`
	Error  *string           `json:"error,omitempty"`
}

func data(kind string) interface{} {
	switch kind {
	case "str":
		return "hello"
	case "map":
		return map[string]interface{}{"a": 1, "s": "str", "x": []interface{}{"p", "q"}, "m": map[string]interface{}{"k": "v"}, "nilv": nil}
	case "kv":
		return KVPair{"/a/b", "v"}
	}
	return nil
}

func main() {
	var cases []Case
	json.NewDecoder(os.Stdin).Decode(&cases)
	for i := range cases {
		c := &cases[i]
		t := template.New("t").Funcs(funcs)
		if len(c.Delims) == 2 {
			t = t.Delims(c.Delims[0], c.Delims[1])
		}
		t, err := t.Parse(c.Tmpl)
		if err != nil {
			s := err.Error()
			c.Error = &s
			continue
		}
		var b bytes.Buffer
		if err := t.Execute(&b, data(c.Data)); err != nil {
			s := err.Error()
			c.Error = &s
			continue
		}
		s := b.String()
		c.Output = &s
	}
	enc := json.NewEncoder(os.Stdout)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	enc.Encode(cases)
	_ = fmt.Sprint
}

// Records what Go's flag package (as confd uses it: flag.Parse, ExitOnError) prints for a flag set and
// a list of command lines. Reads {"flags":[{"name","type","default","usage"}],"cases":[[args...]]} on stdin,
// writes {"defaults": PrintDefaults text, "cases":[{"args","error","help"}]} on stdout.
// Run through tools/goflag/record.ts, which gives it tsconfd's flags and writes the golden file.
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"io"
	"os"
	"strconv"
	"strings"
)

type flagDef struct {
	Name    string `json:"name"`
	Type    string `json:"type"` // bool, int, string, list
	Default string `json:"default"`
	Usage   string `json:"usage"`
}

type list []string

func (l *list) String() string     { return strings.Join(*l, ",") }
func (l *list) Set(v string) error { *l = append(*l, v); return nil }

type result struct {
	Args  []string `json:"args"`
	Error string   `json:"error"`
	Help  bool     `json:"help"`
}

func newSet(defs []flagDef, out io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("tsconfd", flag.ContinueOnError)
	fs.SetOutput(out)
	for _, d := range defs {
		switch d.Type {
		case "bool":
			b, _ := strconv.ParseBool(d.Default)
			fs.Bool(d.Name, b, d.Usage)
		case "int":
			n, _ := strconv.Atoi(d.Default)
			fs.Int(d.Name, n, d.Usage)
		case "string":
			fs.String(d.Name, d.Default, d.Usage)
		case "list":
			var l list
			fs.Var(&l, d.Name, d.Usage)
		}
	}
	return fs
}

func main() {
	var in struct {
		Flags []flagDef    `json:"flags"`
		Cases [][]string   `json:"cases"`
	}
	if err := json.NewDecoder(os.Stdin).Decode(&in); err != nil {
		panic(err)
	}
	var defaults strings.Builder
	newSet(in.Flags, &defaults).PrintDefaults()
	var results []result
	for _, args := range in.Cases {
		fs := newSet(in.Flags, io.Discard)
		err := fs.Parse(args)
		r := result{Args: args}
		if errors.Is(err, flag.ErrHelp) {
			r.Help = true
		} else if err != nil {
			r.Error = err.Error()
		}
		results = append(results, r)
	}
	out := json.NewEncoder(os.Stdout)
	out.SetIndent("", "  ")
	if err := out.Encode(map[string]interface{}{"defaults": defaults.String(), "cases": results}); err != nil {
		panic(err)
	}
}

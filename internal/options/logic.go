package options

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
)

// uWSGI's config logic: blocks of ini lines kept or repeated. A block opens with an
// if-* or for* key and closes with endif or endfor (end-if, end-for); inside it %(_)
// is the block's value: the variable's value, the path, the option's value, the
// item of the loop. Blocks nest. The value of the opening line is expanded when the
// line is reached, like any other.

// conditions are the if-* keys; each says whether its block is read and what %(_)
// is inside it.
var conditions = map[string]func(p *parser, arg string) (bool, string){
	"if-env": func(p *parser, arg string) (bool, string) {
		name, want, eq := strings.Cut(arg, "=")
		v, ok := p.environ[name]
		if eq {
			return ok && v == want, v
		}
		return ok && v != "", v
	},
	"if-exists": func(p *parser, arg string) (bool, string) {
		return statIs(arg, func(os.FileInfo) bool { return true }), arg
	},
	"if-file": func(p *parser, arg string) (bool, string) {
		return statIs(arg, func(fi os.FileInfo) bool { return fi.Mode().IsRegular() }), arg
	},
	"if-dir":      func(p *parser, arg string) (bool, string) { return statIs(arg, os.FileInfo.IsDir), arg },
	"if-hostname": func(p *parser, arg string) (bool, string) { return p.host.hostname == arg, p.host.hostname },
	"if-hostname-match": func(p *parser, arg string) (bool, string) {
		re, err := regexp.Compile(arg)
		return err == nil && re.MatchString(p.host.hostname), p.host.hostname
	},
	// Plugins uwsgo needs none of count as loaded; see plugins.
	"if-plugin": func(p *parser, arg string) (bool, string) {
		return strings.HasPrefix(arg, "python") || strings.HasPrefix(arg, "pypy") || builtinPlugins[arg] != "", arg
	},
	// uwsgo reads its configuration once, at start: never on a reload.
	"if-reload": func(p *parser, arg string) (bool, string) { return false, "" },
	"if-opt": func(p *parser, arg string) (bool, string) {
		name, want, eq := strings.Cut(arg, "=")
		key := name
		if o := Lookup(name); o != nil {
			key = o.Name
		}
		v, ok := p.current[key]
		if eq {
			return ok && v == want, v
		}
		return ok, v
	},
}

func statIs(path string, test func(os.FileInfo) bool) bool {
	fi, err := os.Stat(path)
	return err == nil && test(fi)
}

// condition returns the test of an if-* key, negated for if-not-*; nil if key is none.
func condition(key string) func(p *parser, arg string) (bool, string) {
	key = strings.Replace(key, "if-directory", "if-dir", 1)
	if test := conditions[key]; test != nil {
		return test
	}
	if rest, ok := strings.CutPrefix(key, "if-not-"); ok {
		if test := conditions["if-"+rest]; test != nil {
			return func(p *parser, arg string) (bool, string) {
				ok, v := test(p, arg)
				return !ok, v
			}
		}
	}
	return nil
}

// loops are the for* keys: each turns its value into the items of the loop.
var loops = map[string]func(arg string) ([]string, error){
	"for": func(arg string) ([]string, error) { return strings.Fields(arg), nil },
	"for-glob": func(arg string) ([]string, error) {
		return filepath.Glob(arg)
	},
	"for-readline": func(arg string) ([]string, error) {
		data, err := os.ReadFile(arg)
		if err != nil {
			return nil, err
		}
		return strings.FieldsFunc(string(data), func(r rune) bool { return r == '\n' || r == '\r' }), nil
	},
	"for-times": func(arg string) ([]string, error) {
		n, err := strconv.Atoi(strings.TrimSpace(arg))
		if err != nil || n < 0 {
			return nil, fmt.Errorf("wants a whole number")
		}
		items := make([]string, n)
		for i := range items {
			items[i] = strconv.Itoa(i + 1)
		}
		return items, nil
	},
}

func isEnd(key string) bool {
	switch key {
	case "endif", "end-if", "endfor", "end-for":
		return true
	}
	return false
}

func opens(key string) bool { return condition(key) != nil || loops[key] != nil }

// isLogic reports a key of config logic: ini syntax, not an option.
func isLogic(key string) bool { return opens(key) || isEnd(key) }

// run reads lines, keeping and repeating the blocks of config logic.
func (p *parser) run(f *iniFile, lines []iniLine) error {
	for i := 0; i < len(lines); i++ {
		l := lines[i]
		switch {
		case isEnd(l.key):
			return fmt.Errorf("%s without an if-* or for* line before it (%s)", l.key, l.w.origin)
		case !opens(l.key):
			if err := p.line(f, l); err != nil {
				return err
			}
			continue
		}
		end, err := blockEnd(lines, i)
		if err != nil {
			return err
		}
		arg, err := p.expand(l.value, f.magic, f.vars, l.w)
		if err != nil {
			return fmt.Errorf("in the %s block opened here: %w", l.key, err)
		}
		var items []string
		if test := condition(l.key); test != nil {
			if ok, v := test(p, arg); ok {
				items = []string{v}
			}
		} else if items, err = loops[l.key](arg); err != nil {
			return fmt.Errorf("%s = %s %v (%s)", l.key, arg, err, l.w.origin)
		}
		saved, had := p.current["_"]
		for _, item := range items {
			p.current["_"] = item
			if err := p.run(f, lines[i+1:end]); err != nil {
				return err
			}
		}
		if had {
			p.current["_"] = saved
		} else {
			delete(p.current, "_")
		}
		i = end
	}
	return nil
}

// blockEnd finds the endif or endfor closing the block that lines[open] opens.
func blockEnd(lines []iniLine, open int) (int, error) {
	var stack []iniLine
	for i := open; i < len(lines); i++ {
		l := lines[i]
		switch {
		case opens(l.key):
			stack = append(stack, l)
		case isEnd(l.key):
			top := stack[len(stack)-1]
			wantFor := loops[top.key] != nil
			if isFor := strings.Contains(l.key, "for"); isFor != wantFor {
				want := "endif"
				if wantFor {
					want = "endfor"
				}
				return 0, fmt.Errorf("%s (%s) closes the %s block of %s: write %s", l.key, l.w.origin, top.key, top.w.origin, want)
			}
			stack = stack[:len(stack)-1]
			if len(stack) == 0 {
				return i, nil
			}
		}
	}
	top := stack[len(stack)-1]
	want := "endif"
	if loops[top.key] != nil {
		want = "endfor"
	}
	return 0, fmt.Errorf("the %s block opened at %s has no %s", top.key, top.w.origin, want)
}

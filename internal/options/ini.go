package options

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
)

// loadIni reads one "FILE[:SECTION]" and records its settings in place.
func (p *parser) loadIni(spec string, from where) error {
	if spec == "" {
		return fmt.Errorf("empty ini file name (%s)", from.place())
	}
	file, section := splitIniSpec(spec)
	if file == "" {
		if p.lastIni == "" {
			return fmt.Errorf("ini %q names only a section, but no ini file was loaded before it (%s)", spec, from.place())
		}
		file = p.lastIni
	}
	abs, found, err := p.readIni(file, section, from, false)
	if err != nil {
		return err
	}
	if !found {
		return fmt.Errorf("ini file %s has no [%s] section (%s)", abs, section, from.place())
	}
	return nil
}

// loadIniPaste is --pypy-ini-paste FILE: uWSGI's --ini-paste, that is --ini FILE (whose
// [uwsgi] section may be missing: the file is the app's first) followed by
// --pypy-paste config:/abs/FILE. FILE is PasteDeploy's, so its values may use
// ConfigParser's %(here)s and %(__file__)s.
func (p *parser) loadIniPaste(file string, from where) error {
	if file == "" {
		return fmt.Errorf("empty ini file name (%s)", from.place())
	}
	abs, _, err := p.readIni(file, "uwsgi", from, true)
	if err != nil {
		return err
	}
	paste := Lookup("pypy-paste")
	value := "config:" + abs
	p.current[paste.Name] = value
	p.cfg.Settings = append(p.cfg.Settings, Setting{Opt: paste, Value: value, Origin: from.origin})
	return nil
}

// readIni records the settings of one section of one file; it returns the file's absolute
// path and whether the section was there. paste marks a PasteDeploy file (see pasteVars).
func (p *parser) readIni(file, section string, from where, paste bool) (abs string, found bool, err error) {
	abs, err = filepath.Abs(file)
	if err != nil {
		return "", false, fmt.Errorf("cannot read ini file %s (%s): %v", file, from.place(), err)
	}
	id := abs + "[" + section + "]"
	for i, open := range p.includes {
		if open == id {
			chain := append(append([]string{}, p.includes[i:]...), id)
			return "", false, fmt.Errorf("ini files include each other in a loop (%s): %s", from.place(), strings.Join(chain, " -> "))
		}
	}
	data, err := os.ReadFile(abs)
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return "", false, fmt.Errorf("cannot read ini file %s (%s): %v", abs, from.place(), err)
	}
	p.lastIni = abs
	p.includes = append(p.includes, id)
	defer func() { p.includes = p.includes[:len(p.includes)-1] }()

	magic := p.host.magic(file, abs)
	var vars map[string]string
	if paste {
		vars = pasteVars(abs)
	}
	f := &iniFile{abs: abs, magic: magic, vars: vars}
	inSection := false
	text := strings.TrimPrefix(string(data), "\uFEFF")
	for n, line := range strings.Split(text, "\n") {
		w := where{src: fromIni, origin: abs + ":" + strconv.Itoa(n+1)}
		line = strings.TrimSpace(line)
		switch {
		case line == "", line[0] == '#', line[0] == ';':
			continue
		case line[0] == '[':
			if !strings.HasSuffix(line, "]") {
				if inSection {
					return "", false, fmt.Errorf("section header %q has no closing ] (%s)", line, w.origin)
				}
				// Other sections belong to other tools (paste.deploy and
				// friends share these files); their syntax is not ours to judge.
				continue
			}
			inSection = strings.TrimSpace(line[1:len(line)-1]) == section
			found = found || inSection
			continue
		case !inSection:
			continue
		}
		key, value, hasEq := strings.Cut(line, "=")
		key = strings.TrimSpace(key)
		if key == "" {
			return "", false, fmt.Errorf("missing option name before = in %q (%s)", line, w.origin)
		}
		f.lines = append(f.lines, iniLine{w: w, text: line, key: key, value: strings.TrimSpace(value), hasEq: hasEq})
	}
	return abs, found, p.run(f, f.lines)
}

// iniFile is one section of one ini file being read.
type iniFile struct {
	abs   string
	magic map[byte]string
	vars  map[string]string // a PasteDeploy file's names, see pasteVars
	lines []iniLine
}

type iniLine struct {
	w          where
	text       string
	key, value string // value as written: expanded only when the line is reached
	hasEq      bool
}

// line sets one "key = value" line.
func (p *parser) line(f *iniFile, l iniLine) error {
	o := Lookup(l.key)
	if !l.hasEq && o != nil && o.Kind != Flag && o.Kind != Opaque && o.Implicit == "" {
		// uWSGI reads a bare word as an empty value, which only means something for
		// a flag ("master" = "master = true"); for an option wanting a value it is a
		// mistake worth stopping for.
		return fmt.Errorf("%s needs a value: expected %s = %s, got %q (%s)", l.key, l.key, o.Meta, l.text, l.w.origin)
	}
	value, err := p.expand(l.value, f.magic, f.vars, l.w)
	if err != nil {
		return err
	}
	if o == nil {
		p.addCustom(l.key, l.key, value, l.w)
		return nil
	}
	return p.set(o, l.key, value, l.w)
}

// pasteVars are the names ConfigParser defines in a PasteDeploy file, for %(name)s.
func pasteVars(abs string) map[string]string {
	return map[string]string{"here": filepath.Dir(abs), "__file__": abs}
}

// splitIniSpec splits "FILE:SECTION". Paths may contain colons, so only the
// last one counts, only when what follows looks like a section name, and
// only when the whole string is not itself an existing file.
func splitIniSpec(spec string) (file, section string) {
	i := strings.LastIndexByte(spec, ':')
	if i < 0 || !plausibleSection(spec[i+1:]) {
		return spec, "uwsgi"
	}
	if _, err := os.Stat(spec); err == nil {
		return spec, "uwsgi"
	}
	return spec[:i], spec[i+1:]
}

func plausibleSection(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
		case r == '-', r == '_', r == '.':
		default:
			return false
		}
	}
	return true
}

// expand resolves magic variables (%d, %n, ...) and placeholders (%(name))
// in an ini value. A % followed by anything else is kept as is, as uWSGI
// does, so values meant for other formatters (strftime, log formats) pass.
// paste, for a PasteDeploy file, holds ConfigParser's names (here, __file__);
// there %(name)s is ConfigParser's syntax and its "s" is part of it.
func (p *parser) expand(value string, magic map[byte]string, paste map[string]string, w where) (string, error) {
	if !strings.ContainsAny(value, "%$@") {
		return value, nil
	}
	var b strings.Builder
	for i := 0; i < len(value); i++ {
		c := value[i]
		if (c == '$' || c == '@') && i+1 < len(value) && value[i+1] == '(' {
			end := strings.IndexByte(value[i+2:], ')')
			if end < 0 {
				return "", fmt.Errorf("unclosed %c( in %q (%s)", c, value, w.origin)
			}
			name := value[i+2 : i+2+end]
			i += 2 + end
			v, err := p.external(c, name, w)
			if err != nil {
				return "", err
			}
			b.WriteString(v)
			continue
		}
		if c != '%' || i+1 == len(value) {
			b.WriteByte(c)
			continue
		}
		next := value[i+1]
		if next == '(' {
			start := i
			end := strings.IndexByte(value[i+2:], ')')
			if end < 0 {
				return "", fmt.Errorf("unclosed %%( in %q (%s)", value, w.origin)
			}
			name := value[i+2 : i+2+end]
			i += 2 + end
			if strings.Contains(name, "%") {
				// Magic variables work in arithmetic: %(%k * 2) is twice the CPUs.
				var err error
				if name, err = p.expand(name, magic, nil, w); err != nil {
					return "", err
				}
			}
			if paste != nil && i+1 < len(value) && value[i+1] == 's' {
				i++
			}
			v, ok := paste[name]
			if !ok {
				var err error
				if v, ok, err = p.placeholder(name, w); err != nil {
					return "", err
				}
			}
			if !ok {
				// As uWSGI does: %(status) in a log-format is the log's, not ours.
				v = value[start : i+1]
			}
			b.WriteString(v)
			continue
		}
		if m, ok := magic[next]; ok {
			b.WriteString(m)
			i++
			continue
		}
		b.WriteByte(c)
	}
	return b.String(), nil
}

// placeholder resolves %(name); ok is false when nothing has that name, and then the
// text stays as written. %(a + b) is uWSGI's placeholder arithmetic.
func (p *parser) placeholder(name string, w where) (v string, ok bool, err error) {
	if strings.ContainsAny(name, " \t") {
		return p.arithmetic(name, w)
	}
	if name == "" {
		return "", false, fmt.Errorf("empty placeholder %%() (%s)", w.origin)
	}
	key := name
	if o := Lookup(name); o != nil {
		key = o.Name
	} else {
		p.referenced[name] = true
	}
	v, ok = p.current[key]
	return v, ok, nil
}

// arithmetic is uWSGI's %(a OP b [OP c]...): operands are whole numbers or names of
// options and placeholders holding one, OP is + - * /, separated by spaces, worked
// out from left to right.
func (p *parser) arithmetic(expr string, w where) (string, bool, error) {
	fields := strings.Fields(expr)
	bad := func(why string) (string, bool, error) {
		return "", false, fmt.Errorf("%%(%s): %s; uWSGI's placeholder arithmetic is %%(NAME + 1), operands and + - * / separated by spaces (%s)", expr, why, w.origin)
	}
	operand := func(s string) (int64, error) {
		if n, err := strconv.ParseInt(s, 10, 64); err == nil {
			return n, nil
		}
		v, ok, err := p.placeholder(s, w)
		if err != nil {
			return 0, err
		}
		if !ok {
			return 0, fmt.Errorf("%s is not set before this line", s)
		}
		n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
		if err != nil {
			return 0, fmt.Errorf("%s is %q, not a whole number", s, v)
		}
		return n, nil
	}
	if len(fields)%2 == 0 {
		return bad("an operator lacks an operand")
	}
	acc, err := operand(fields[0])
	if err != nil {
		return bad(err.Error())
	}
	for i := 1; i < len(fields); i += 2 {
		n, err := operand(fields[i+1])
		if err != nil {
			return bad(err.Error())
		}
		switch fields[i] {
		case "+":
			acc += n
		case "-":
			acc -= n
		case "*":
			acc *= n
		case "/":
			if n == 0 {
				return bad("division by zero")
			}
			acc /= n
		default:
			return bad(fmt.Sprintf("%q is not an operator", fields[i]))
		}
	}
	return strconv.FormatInt(acc, 10), true, nil
}

// external is $(VAR), from the environment, or @(FILE), the file's content.
func (p *parser) external(kind byte, name string, w where) (string, error) {
	if kind == '$' {
		v, ok := p.environ[name]
		if !ok {
			p.warn(w, "$(%s) is not set in the environment: it reads as empty", name)
		}
		return v, nil
	}
	data, err := os.ReadFile(name)
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return "", fmt.Errorf("@(%s): cannot read the file (%s): %v", name, w.origin, err)
	}
	return strings.TrimRight(string(data), "\r\n"), nil
}

// hostInfo holds the magic values that do not depend on the file, looked up
// once per Parse.
type hostInfo struct {
	hostname string
	cwd      string
}

func newHostInfo() *hostInfo {
	h := &hostInfo{}
	h.hostname, _ = os.Hostname()
	h.cwd, _ = os.Getwd()
	return h
}

// magic builds uWSGI's magic variables for one ini file. given is the path
// as written (for %o), abs its absolute form.
func (h *hostInfo) magic(given, abs string) map[byte]string {
	dir, base := filepath.Split(abs) // dir keeps its trailing slash, as uWSGI's %d does
	ext := filepath.Ext(base)
	m := map[byte]string{
		'%': "%",
		'p': abs,
		's': base,
		'd': dir,
		'n': strings.TrimSuffix(base, ext),
		'e': strings.TrimPrefix(ext, "."),
		'c': filepath.Base(strings.TrimSuffix(dir, "/")),
		'o': given,
		'k': strconv.Itoa(runtime.NumCPU()),
		'u': strconv.Itoa(os.Getuid()),
		'g': strconv.Itoa(os.Getgid()),
		'[': "\x1b",
	}
	if dir == "/" {
		m['c'] = ""
	}
	if h.hostname != "" {
		m['h'] = h.hostname
	}
	if h.cwd != "" {
		m['v'] = h.cwd
	}
	// %0..%9 are the components of the directory, outermost first.
	parts := strings.FieldsFunc(dir, func(r rune) bool { return r == '/' })
	for i := 0; i < len(parts) && i < 10; i++ {
		m['0'+byte(i)] = parts[i]
	}
	return m
}

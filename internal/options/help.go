package options

import (
	"fmt"
	"io"
	"strings"
)

// helpColumn is where descriptions start; longer option columns push the
// description to its own line instead of widening every row.
const helpColumn = 32

// WriteHelp writes --help: every option of Table grouped by Group, with its
// aliases, value placeholder, default, range and how it differs from uWSGI.
func WriteHelp(w io.Writer) {
	var b strings.Builder
	b.WriteString("Usage: uwsgo [OPTION]... [FILE.ini]...\n\n")
	b.WriteString("Runs a Python WSGI app on an embedded PyPy; command lines and ini files\n")
	b.WriteString("written for uWSGI's PyPy plugin work unchanged.\n\n")
	b.WriteString("Every uWSGI option is accepted. The sections below are the options uwsgo\n")
	b.WriteString("implements, then the uWSGI options it accepts without effect (with the\n")
	b.WriteString("reason), then those it does not implement (a warning at start says what\n")
	b.WriteString("happens instead); names unknown to uWSGI too are explained at the end.\n")

	for _, group := range helpGroups() {
		fmt.Fprintf(&b, "\n%s:\n", group)
		if group == unimplementedGroup {
			writeUnimplemented(&b)
			continue
		}
		for i := range Table {
			if Table[i].Group == group {
				writeOption(&b, &Table[i])
			}
		}
	}
	b.WriteString("\nAny other name is unknown to uWSGI too: in an ini file or the environment it\n")
	b.WriteString("gets a warning naming the closest option (unless a %(name) uses it); on the\n")
	b.WriteString("command line it is an error. Warnings are listed together at start;\n")
	b.WriteString("--strict refuses to start on any of them.\n")

	b.WriteString("\nEvery option can also be set in an ini file (\"name = value\" in its [uwsgi]\n")
	b.WriteString("section; %d, %n, %(name) and other uWSGI placeholders work there) or in the\n")
	b.WriteString("environment as UWSGI_NAME (UWSGI_HTTP_SOCKET=:8080). The environment is read\n")
	b.WriteString("first, then the command line in order with each ini file read where it is\n")
	b.WriteString("named; a FILE.ini given without --ini is read after all options, as in uWSGI.\n")
	b.WriteString("For an option taking one value the last one wins; repeatable options add up.\n")
	io.WriteString(w, b.String())
}

// helpGroups is groupOrder followed by any group a newer row introduced, so
// that a row is never left out of --help for want of updating groupOrder.
func helpGroups() []string {
	groups := append([]string{}, groupOrder...)
	for i := range Table {
		known := false
		for _, g := range groups {
			known = known || g == Table[i].Group
		}
		if !known {
			groups = append(groups, Table[i].Group)
		}
	}
	return groups
}

func writeOption(b *strings.Builder, o *Option) {
	left := "      --" + o.Name
	if o.Short != 0 {
		left = fmt.Sprintf("  -%c, --%s", o.Short, o.Name)
	}
	if o.Kind != Flag {
		left += " " + o.Meta
	}

	help := o.Help
	var notes []string
	if o.Kind == List {
		notes = append(notes, "repeatable")
	}
	if o.Default != "" {
		notes = append(notes, "default "+o.Default)
	}
	if o.Kind == Int {
		switch {
		case o.Max != 0:
			notes = append(notes, fmt.Sprintf("%d to %d", o.Min, o.Max))
		case o.Min > 0:
			notes = append(notes, fmt.Sprintf("at least %d", o.Min))
		}
	}
	if len(notes) > 0 {
		help += " (" + strings.Join(notes, ", ") + ")"
	}

	lines := []string{help}
	if len(o.Aliases) > 0 {
		lines = append(lines, "also --"+strings.Join(o.Aliases, ", --"))
	}
	if o.UWSGI != "" {
		lines = append(lines, "uWSGI note: "+o.UWSGI)
	}

	indent := strings.Repeat(" ", helpColumn)
	if len(left) < helpColumn-1 {
		b.WriteString(left + strings.Repeat(" ", helpColumn-len(left)))
	} else {
		b.WriteString(left + "\n" + indent)
	}
	b.WriteString(strings.Join(lines, "\n"+indent))
	b.WriteString("\n")
}

// WritePrintConfig writes --print-config and --show-config: every setting in the order
// uwsgo applies them, one "name = value" line each with where it came from, then the
// notices; a user moving a uWSGI file sees what uwsgo made of every line.
func WritePrintConfig(w io.Writer, c *Config) {
	var b strings.Builder
	b.WriteString("[uwsgi]\n")
	for _, s := range c.Settings {
		if s.Opt.Name == "print-config" || s.Opt.Name == "show-config" {
			continue
		}
		fmt.Fprintf(&b, "%-40s ; %s%s\n", s.Opt.Name+" = "+s.Value, s.Origin, policyNote(s.Opt))
	}
	for _, n := range c.Notices {
		fmt.Fprintf(&b, "; %s\n", n)
	}
	io.WriteString(w, b.String())
}

func policyNote(o *Option) string {
	if o.Policy == Implemented {
		return ""
	}
	return " (" + o.Policy.String() + ")"
}

// writeUnimplemented lists the Unimplemented rows by what happens instead, names
// wrapped under each: hundreds of rows one per line would bury the rest of --help.
func writeUnimplemented(b *strings.Builder) {
	b.WriteString("  accepted with a warning at start saying what happens instead (or, for\n")
	b.WriteString("  internal routing, refused: see its reason):\n")
	var texts []string
	names := map[string][]string{}
	for i := range Table {
		o := &Table[i]
		if o.Group != unimplementedGroup {
			continue
		}
		if names[o.Help] == nil {
			texts = append(texts, o.Help)
		}
		names[o.Help] = append(names[o.Help], o.Name)
	}
	for _, text := range texts {
		fmt.Fprintf(b, "  %s:\n", text)
		line := "   "
		for _, n := range names[text] {
			if len(line)+len(n)+2 > 80 {
				b.WriteString(line + "\n")
				line = "   "
			}
			line += " " + n
		}
		b.WriteString(line + "\n")
	}
}

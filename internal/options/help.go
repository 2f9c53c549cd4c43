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
	b.WriteString("written for uWSGI's PyPy plugin work unchanged.\n")

	for _, group := range helpGroups() {
		fmt.Fprintf(&b, "\n%s:\n", group)
		for i := range Table {
			if Table[i].Group == group {
				writeOption(&b, &Table[i])
			}
		}
	}

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

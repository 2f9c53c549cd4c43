package options

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// goTo is a routing rule's goto:LABEL, checked once every route-label is known.
type goTo struct {
	label, spelled string
	w              where
}

// routeAction splits the action off a rule of the option name.
func routeAction(name, value string) string {
	if name == "route-run" {
		return value
	}
	_, action, _ := strings.Cut(value, " ")
	return strings.TrimSpace(action)
}

// checkRoute returns the Check of a routing option: an action or check uwsgo does not
// have is refused, like the chains it lacks: a rule that silently did nothing could
// expose what it guards.
func checkRoute(name, meta string) func(string) error {
	return func(value string) error {
		action := routeAction(name, value)
		if action == "" {
			return fmt.Errorf("a rule is %s", meta)
		}
		if name == "route-if" || name == "route-if-not" {
			check, _, _ := strings.Cut(value, ":")
			if !slices.Contains(routeChecks, check) {
				return fmt.Errorf("uwsgo's routing has no %q check (it has %s)", check, strings.Join(routeChecks, ", "))
			}
		}
		verb, _, _ := strings.Cut(action, ":")
		if !slices.Contains(routeActions, verb) {
			return fmt.Errorf("uwsgo's routing has no %q action (it has %s); do this in the proxy in front or in the app", verb, strings.Join(routeActions, ", "))
		}
		return nil
	}
}

// checkPair returns a Check for "NAME<sep>VALUE" values, described by want; prefix
// requires NAME to start with "/".
func checkPair(sep, want string, prefix bool) func(string) error {
	return func(value string) error {
		name, rest, ok := strings.Cut(value, sep)
		if !ok || strings.TrimSpace(name) == "" || (prefix && (!strings.HasPrefix(name, "/") || rest == "")) {
			return fmt.Errorf("wants %s", want)
		}
		return nil
	}
}

// pythonName is a dotted Python module name.
var pythonName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$`)

func checkModule(value string) error {
	if !pythonName.MatchString(value) {
		return errors.New("wants a module name (a.b.c)")
	}
	return nil
}

// checkGotos refuses a goto: naming no route-label (uWSGI also takes a rule number).
func (p *parser) checkGotos() error {
	for _, g := range p.gotos {
		if _, err := strconv.Atoi(g.label); err != nil && !p.labels[g.label] {
			return fmt.Errorf("%s (%s): no route-label %s", g.spelled, g.w.place(), g.label)
		}
	}
	return nil
}

package options

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// goTo is a routing rule's goto:LABEL, checked once every route-label is known.
type goTo struct {
	label, spelled string
	w              where
}

// checkRoute validates one rule of uWSGI's internal routing and returns its action. An
// action or check uwsgo does not have is refused, like the other chains: a rule that
// silently did nothing could expose what it guards.
func checkRoute(name, value string) (action string, err error) {
	cond, action := "", value
	if name != "route-run" {
		var ok bool
		if cond, action, ok = strings.Cut(value, " "); !ok || strings.TrimSpace(action) == "" {
			return "", fmt.Errorf("a rule is %s ACTION", Lookup(name).Meta)
		}
		action = strings.TrimSpace(action)
	}
	if name == "route-if" || name == "route-if-not" {
		check, _, _ := strings.Cut(cond, ":")
		if !slices.Contains(routeChecks, check) {
			return "", fmt.Errorf("uwsgo's routing has no %q check (it has %s)", check, strings.Join(routeChecks, ", "))
		}
	}
	verb, _, _ := strings.Cut(action, ":")
	if !slices.Contains(routeActions, verb) {
		return "", fmt.Errorf("uwsgo's routing has no %q action (it has %s); do this in the proxy in front or in the app", verb, strings.Join(routeActions, ", "))
	}
	return action, nil
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

package options

import (
	"encoding/json"
	"fmt"
)

// Encode is the configuration as the master hands it to its workers: every setting, in
// order, already resolved. A worker must not parse the command line again: ini files,
// placeholders and relative paths could mean something else after --chdir.
func (c *Config) Encode() string {
	pairs := make([][2]string, 0, len(c.Settings))
	for _, s := range c.Settings {
		pairs = append(pairs, [2]string{s.Opt.Name, s.Value})
	}
	b, _ := json.Marshal(pairs)
	return string(b)
}

// Decode is the inverse of Encode; the typed settings are filled again from the list,
// by the same rules, so a worker decides exactly as its master did.
func Decode(text string) (*Config, error) {
	var pairs [][2]string
	if err := json.Unmarshal([]byte(text), &pairs); err != nil {
		return nil, fmt.Errorf("configuration from the master: %w", err)
	}
	c := &Config{}
	for _, p := range pairs {
		o := Lookup(p[0])
		if o == nil {
			return nil, fmt.Errorf("configuration from the master: unknown option %q", p[0])
		}
		c.Settings = append(c.Settings, Setting{Opt: o, Value: p[1], Origin: "master"})
	}
	if err := c.resolve(); err != nil {
		return nil, fmt.Errorf("configuration from the master: %w", err)
	}
	return c, nil
}

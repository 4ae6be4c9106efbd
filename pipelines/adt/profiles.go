package adt

import (
	"time"

	"github.com/calaim-gateway/calaim-gateway/config"
	"github.com/calaim-gateway/calaim-gateway/mappings/adt"
)

// Profiles returns the sender profiles of the configuration (adt.senders),
// times without an offset read in the sender's timezone, else the plan's.
func Profiles(c *config.Config) []adt.Profile {
	if c == nil {
		return nil
	}
	out := make([]adt.Profile, 0, len(c.ADT.Senders))
	for _, s := range c.ADT.Senders {
		loc := c.Location()
		if s.Timezone != "" {
			if l, err := time.LoadLocation(s.Timezone); err == nil {
				loc = l
			}
		}
		out = append(out, adt.Profile{Name: s.Name, Facilities: s.Facilities, IDType: s.CINIdentifierType, Authority: s.CINAssigningAuthority, Location: loc})
	}
	return out
}

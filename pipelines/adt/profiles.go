package adt

import (
	"time"

	"github.com/calaim-gateway/calaim-gateway/config"
	"github.com/calaim-gateway/calaim-gateway/mappings/adt"
)

// Profiles returns the sender profiles of the configuration (adt.senders),
// times without an offset read in the sender's timezone, else the plan's,
// each taking the configuration's processing IDs; when every one lists
// facilities, the built-in profile taking them too comes last, as the one
// of any other sender.
func Profiles(c *config.Config) []adt.Profile {
	if c == nil {
		return nil
	}
	ids := c.ADT.TakenProcessingIDs()
	out := make([]adt.Profile, 0, len(c.ADT.Senders)+1)
	catchAll := false
	for _, s := range c.ADT.Senders {
		loc := c.Location()
		if s.Timezone != "" {
			if l, err := time.LoadLocation(s.Timezone); err == nil {
				loc = l
			}
		}
		out = append(out, adt.Profile{Name: s.Name, Facilities: s.Facilities, IDType: s.CINIdentifierType, Authority: s.CINAssigningAuthority, Location: loc,
			ProcessingIDs: ids})
		catchAll = catchAll || len(s.Facilities) == 0
	}
	if !catchAll {
		p := adt.DefaultProfile()
		p.ProcessingIDs = ids
		out = append(out, p)
	}
	return out
}

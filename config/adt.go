package config

import (
	"fmt"
	"strings"
	"time"
)

// ADT configures HL7 v2 ADT intake and notices (docs/adt.md).
type ADT struct {
	// Senders are the hospitals' profiles: which PID-3 identifier holds the
	// member's CIN. A message whose MSH-4.1 no profile lists uses the first
	// profile without facilities, else the built-in one (identifier type
	// MA, any authority, times in America/Los_Angeles).
	Senders []ADTSender `yaml:"senders"`
	// NoticeDestinations maps an ECM provider's NPI to the destination
	// (destinations:) its ADT notice files go to; a provider without one
	// gets them at the adt-notices job's "notices" output destination.
	NoticeDestinations map[string]string `yaml:"notice_destinations"`
	// ProcessingIDs are the MSH-11 processing IDs taken (HL7 table 0103:
	// P production, T training, D debugging); default P alone. A message
	// with another is refused (AR over MLLP, an exception from a file):
	// a hospital's test or training message never becomes an event or an
	// ECM provider's notice.
	ProcessingIDs []string `yaml:"processing_ids"`
}

// TakenProcessingIDs are ProcessingIDs, P alone when none are set.
func (a *ADT) TakenProcessingIDs() []string {
	if len(a.ProcessingIDs) == 0 {
		return []string{"P"}
	}
	return a.ProcessingIDs
}

// ADTSender is one sender's profile.
type ADTSender struct {
	Name string `yaml:"name"`
	// Facilities are the MSH-4.1 sending facility IDs of the sender.
	Facilities []string `yaml:"facilities"`
	// CINIdentifierType is PID-3.5 of the CIN's repetition ("" = any).
	CINIdentifierType string `yaml:"cin_identifier_type"`
	// CINAssigningAuthority is PID-3.4.1 of the CIN's repetition ("" = any).
	CINAssigningAuthority string `yaml:"cin_assigning_authority"`
	// Timezone of the sender's times without an offset ("" = timezone).
	Timezone string `yaml:"timezone"`
}

func (a *ADT) validate() []string {
	var errs []string
	for i, id := range a.ProcessingIDs {
		if id != "P" && id != "T" && id != "D" {
			errs = append(errs, fmt.Sprintf("adt.processing_ids[%d] %q is not P, T or D", i, id))
		}
	}
	seen := map[string]bool{}
	for i, s := range a.Senders {
		p := fmt.Sprintf("adt.senders[%d]", i)
		if s.Name == "" {
			errs = append(errs, p+".name is empty")
		} else if seen[s.Name] {
			errs = append(errs, fmt.Sprintf("%s.name %q is used twice", p, s.Name))
		}
		seen[s.Name] = true
		if s.Timezone != "" {
			if _, err := time.LoadLocation(s.Timezone); err != nil {
				errs = append(errs, fmt.Sprintf("%s.timezone %q: %v", p, s.Timezone, err))
			}
		}
	}
	return errs
}

// validateNoticeDestinations checks that every notice destination names a
// 10-digit NPI and a configured destination.
func (c *Config) validateNoticeDestinations() []string {
	var errs []string
	for _, npi := range sortedKeys(c.ADT.NoticeDestinations) {
		dst := c.ADT.NoticeDestinations[npi]
		if len(npi) != 10 || strings.Trim(npi, "0123456789") != "" {
			errs = append(errs, fmt.Sprintf("adt.notice_destinations: %q is not a 10-digit NPI", npi))
		}
		if _, ok := c.Destinations[dst]; !ok {
			errs = append(errs, fmt.Sprintf("adt.notice_destinations.%s: destination %q is not in destinations (%s)",
				npi, dst, strings.Join(sortedKeys(c.Destinations), ", ")))
		}
	}
	return errs
}

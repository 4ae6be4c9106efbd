package x274

import (
	"fmt"
	"sync"

	"github.com/calaim-gateway/calaim-gateway/edi/x12/ig"
)

// Identifiers of the DHCS provider network file.
const (
	SetID        = "274"        // ST01
	Version      = "004050X109" // GS08 and ST03: ASC X12N 274 Health Care Provider Information TR3
	FunctionalID = "PW"         // GS01: Healthcare Provider Information
	ISAVersion   = "00405"      // ISA12 for a 004050 interchange
	// HierarchicalStructure is BHT01: Information Source, Information
	// Receiver, Group, Site of Service, Provider.
	HierarchicalStructure = "0028"
)

// HL03 hierarchical level codes of the five levels.
const (
	LevelSource   = "20" // 2000A Information Source (the plan)
	LevelReceiver = "21" // 2000B Information Receiver (DHCS)
	LevelGroup    = "4"  // 2000C Group (the contracted organization)
	LevelSite     = "N"  // 2000D Site of service — see the source notes in doc.go
	LevelProvider = "19" // 2000E Provider (practitioner at the site)
)

// Entity and qualifier codes the writer uses and the table holds.
const (
	EntitySource   = "ACV" // 2100A NM101: the plan (production file, dhcs-observed-formats.md B7.5 [P])
	EntityNetwork  = "NN"  // 2100A NM101 of the second name: the network name ("DEFAULT" in the production file)
	DateExtract    = "507" // heading DTM01: directory extract date (B7.4 [P])
	EntityReceiver = "40"  // 2100B NM101: receiver
	EntityGroup    = "QV"  // 2100C NM101: group practice
	EntitySite     = "77"  // 2100DA NM101 and 2110DA NX101: service location
	EntityProvider = "1P"  // 2100EA NM101: provider
	// EntityAffiliated is the NM101 of a site's affiliated entity
	// (NM1*30 … EQ <id> in the production file, B7.8 [P]; read and
	// validated, not written), QualAffiliated its NM108.
	EntityAffiliated = "30"
	QualAffiliated   = "EQ"
	QualNPI          = "XX"  // NM108: CMS National Provider Identifier
	QualTIN          = "FI"  // NM108: federal taxpayer identification number
	DateEffective    = "092" // DTP01: contract effective
	DateExpiration   = "093" // DTP01: contract expiration
	QualCounty       = "CY"  // N405: county (N406 holds the two-digit DHCS county code)
	QualLanguage     = "LE"  // LUI01: ISO 639 language code
)

// The table is written by hand from the sources listed in doc.go: the
// ASC X12 004050 base standard for the 274 (segment order, element types
// and lengths), the DHCS 274 Provider Directory Companion Guide v1.1 (loop
// names, envelope values) and a California plan's public 274 exporter (the
// codes the DHCS file uses). Everything the gateway does not write is left
// out: such a segment is reported as not in the set.

func el(ref, name string, u ig.Usage, t ig.DataType, min, max int, codes ...string) ig.Element {
	return ig.Element{Ref: ref, Name: name, Usage: u, Type: t, Min: min, Max: max, Codes: codes}
}

const (
	r = ig.Required
	s = ig.Situational
	n = ig.NotUsed
)

func hl(name, code string, parent ig.Usage) *ig.Segment {
	return &ig.Segment{ID: "HL", Name: name, Usage: r, Pos: 100, MaxUse: 1, Elements: []ig.Element{
		el("628", "Hierarchical ID Number", r, ig.AN, 1, 12),
		el("734", "Hierarchical Parent ID Number", parent, ig.AN, 1, 12),
		el("735", "Hierarchical Level Code", r, ig.ID, 1, 2, code),
		el("736", "Hierarchical Child Code", r, ig.ID, 1, 1, "0", "1"),
	}}
}

// nm1 is an NM1 segment; person selects NM102 "1" (a person: last and
// first name) rather than "2" (an organization).
func nm1(name, entity string, person bool, idQuals ...string) *ig.Segment {
	return nm1IDs(name, []string{entity}, person, r, idQuals...)
}

// nm1IDs is an NM1 segment with several entity codes and an ID that may
// be situational (idUsage).
func nm1IDs(name string, entities []string, person bool, idUsage ig.Usage, idQuals ...string) *ig.Segment {
	first, entType := n, "2"
	if person {
		first, entType = s, "1"
	}
	id := el("67", "Identification Code", idUsage, ig.AN, 2, 80)
	if len(idQuals) == 1 && idQuals[0] == QualNPI {
		id.Pattern = "[0-9]{10}"
	}
	return &ig.Segment{ID: "NM1", Name: name, Usage: r, Pos: 300, MaxUse: 1, Syntax: []ig.Rule{"P0809", "C1110"}, Elements: []ig.Element{
		el("98", "Entity Identifier Code", r, ig.ID, 2, 3, entities...),
		el("1065", "Entity Type Qualifier", r, ig.ID, 1, 1, entType),
		el("1035", "Name Last or Organization Name", r, ig.AN, 1, 60),
		el("1036", "Name First", first, ig.AN, 1, 35),
		el("1037", "Name Middle", first, ig.AN, 1, 25),
		el("1038", "Name Prefix", n, ig.AN, 1, 10),
		el("1039", "Name Suffix", first, ig.AN, 1, 10),
		el("66", "Identification Code Qualifier", idUsage, ig.ID, 1, 2, idQuals...),
		id,
		el("706", "Entity Relationship Code", n, ig.ID, 2, 2),
		el("98", "Entity Identifier Code", n, ig.ID, 2, 3),
	}}
}

func n2(name string) *ig.Segment {
	return &ig.Segment{ID: "N2", Name: name, Usage: s, Pos: 400, MaxUse: 1, Elements: []ig.Element{
		el("93", "Name", r, ig.AN, 1, 60),
		el("93", "Name", s, ig.AN, 1, 60),
	}}
}

func per(name string, pos int, function ...string) *ig.Segment {
	return &ig.Segment{ID: "PER", Name: name, Usage: s, Pos: pos, MaxUse: 1, Syntax: []ig.Rule{"P0304", "P0506", "P0708"}, Elements: []ig.Element{
		el("366", "Contact Function Code", r, ig.ID, 2, 2, function...),
		el("93", "Name", s, ig.AN, 1, 60),
		el("365", "Communication Number Qualifier", s, ig.ID, 2, 2, "TE", "EM", "FX"),
		el("364", "Communication Number", s, ig.AN, 1, 80),
		el("365", "Communication Number Qualifier", s, ig.ID, 2, 2, "TE", "EM", "FX", "EX"),
		el("364", "Communication Number", s, ig.AN, 1, 80),
		el("365", "Communication Number Qualifier", s, ig.ID, 2, 2, "TE", "EM", "FX", "EX"),
		el("364", "Communication Number", s, ig.AN, 1, 80),
		el("443", "Contact Inquiry Reference", n, ig.AN, 1, 20),
	}}
}

func dtp(name string) *ig.Segment {
	return &ig.Segment{ID: "DTP", Name: name, Usage: s, Pos: 1200, MaxUse: 2, Elements: []ig.Element{
		el("374", "Date/Time Qualifier", r, ig.ID, 3, 3, DateEffective, DateExpiration),
		el("1250", "Date Time Period Format Qualifier", r, ig.ID, 2, 3, "D8"),
		el("1251", "Date Time Period", r, ig.AN, 1, 35),
	}}
}

// ref is a REF segment of a name loop, after its LQ loop (REF*N5 in the
// production file).
func ref(name string) *ig.Segment {
	return &ig.Segment{ID: "REF", Name: name, Usage: s, Pos: 2200, MaxUse: 0, Elements: []ig.Element{
		el("128", "Reference Identification Qualifier", r, ig.ID, 2, 3),
		el("127", "Reference Identification", r, ig.AN, 1, 30),
	}}
}

func lq(loopID, name string) *ig.Loop {
	return &ig.Loop{ID: loopID, Name: name, Usage: s, Pos: 2100, Repeat: 0, Children: []ig.Node{
		&ig.Segment{ID: "LQ", Name: name, Usage: r, Pos: 2100, MaxUse: 1, Syntax: []ig.Rule{"C0102"}, Elements: []ig.Element{
			el("1270", "Code List Qualifier Code", r, ig.ID, 1, 3),
			el("1271", "Industry Code", r, ig.AN, 1, 30),
		}},
		&ig.Segment{ID: "TPB", Name: name + " Title", Usage: s, Pos: 2150, MaxUse: 0, Elements: []ig.Element{
			el("1634", "Business Professional Title Code", r, ig.ID, 1, 3),
			el("933", "Free-form Message Text", n, ig.AN, 1, 264),
			el("559", "Agency Qualifier Code", n, ig.ID, 2, 2),
			el("822", "Source Subqualifier", n, ig.AN, 1, 15),
		}},
	}}
}

// Spec274 returns the DHCS provider network file's table: the ASC X12 274
// (004050X109) as the DHCS 274 companion guide shapes it, reduced to what
// the gateway writes (see doc.go for every source). It is built on first
// use and the same for every call; it must not be changed.
func Spec274() *ig.Spec { return spec274() }

var spec274 = sync.OnceValue(func() *ig.Spec {
	return &ig.Spec{
		Name:         "Health Care Provider Information (DHCS provider network file)",
		SetID:        SetID,
		Version:      Version,
		FunctionalID: FunctionalID,
		Source:       "hand-written: ASC X12 004050 274 base standard; DHCS 274 Companion Guide v1.1 (2016); see edi/x12/x274/doc.go",
		Children: []ig.Node{
			&ig.Segment{ID: "ST", Name: "Transaction Set Header", Usage: r, Pos: 100, MaxUse: 1, Elements: []ig.Element{
				el("143", "Transaction Set Identifier Code", r, ig.ID, 3, 3, SetID),
				el("329", "Transaction Set Control Number", r, ig.AN, 4, 9),
				el("1705", "Implementation Convention Reference", s, ig.AN, 1, 35, Version),
			}},
			&ig.Segment{ID: "BHT", Name: "Beginning of Hierarchical Transaction", Usage: r, Pos: 200, MaxUse: 1, Elements: []ig.Element{
				el("1005", "Hierarchical Structure Code", r, ig.ID, 4, 4, HierarchicalStructure),
				el("353", "Transaction Set Purpose Code", r, ig.ID, 2, 2),
				el("127", "Reference Identification", r, ig.AN, 1, 30),
				el("373", "Date", r, ig.DT, 8, 8),
				el("337", "Time", r, ig.TM, 4, 8),
				el("640", "Transaction Type Code", n, ig.ID, 2, 2),
			}},
			&ig.Segment{ID: "DTM", Name: "Directory Extract Date", Usage: s, Pos: 300, MaxUse: 1, Elements: []ig.Element{
				el("374", "Date/Time Qualifier", r, ig.ID, 3, 3, DateExtract),
				el("373", "Date", r, ig.DT, 8, 8),
			}},
			per("Information Source Contact", 400, "BJ", "IC"),
			&ig.Loop{ID: "2000A", Name: "Information Source Level", Usage: r, Pos: 100, Repeat: 1, Children: []ig.Node{
				hl("Information Source Level", LevelSource, n),
				&ig.Loop{ID: "2100A", Name: "Information Source Name", Usage: r, Pos: 300, Repeat: 2, Children: []ig.Node{
					nm1IDs("Information Source Name", []string{EntitySource, EntityNetwork, "PR"}, false, s, "PI", "46", QualTIN),
				}},
				&ig.Loop{ID: "2000B", Name: "Information Receiver Level", Usage: r, Pos: 3700, Repeat: 1, Children: []ig.Node{
					hl("Information Receiver Level", LevelReceiver, r),
					&ig.Loop{ID: "2100B", Name: "Information Receiver Name", Usage: r, Pos: 300, Repeat: 1, Children: []ig.Node{
						nm1IDs("Information Receiver Name", []string{EntityReceiver}, false, s, "46", "PI"),
					}},
					&ig.Loop{ID: "2000C", Name: "Group Level", Usage: r, Pos: 3700, Repeat: 0, Children: []ig.Node{
						hl("Group Level", LevelGroup, r),
						&ig.Loop{ID: "2100C", Name: "Group Name", Usage: r, Pos: 300, Repeat: 1, Children: []ig.Node{
							nm1("Group Name", EntityGroup, false, QualTIN, QualNPI),
							n2("Group Additional Name"),
							dtp("Group Contract Date"),
							lq("2120C", "Group Specialization"),
							ref("Group Identification"),
						}},
						&ig.Loop{ID: "2000D", Name: "Site Level", Usage: r, Pos: 3700, Repeat: 0, Children: []ig.Node{
							hl("Site Level", LevelSite, r),
							&ig.Loop{ID: "2100DA", Name: "Site", Usage: r, Pos: 300, Repeat: 1, Children: []ig.Node{
								nm1("Site Name", EntitySite, false, QualNPI),
								n2("Site Additional Name"),
								per("Site Contact", 500, "AJ"),
								&ig.Segment{ID: "LUI", Name: "Site Language", Usage: s, Pos: 1100, MaxUse: 0, Syntax: []ig.Rule{"P0102"}, Elements: []ig.Element{
									el("66", "Identification Code Qualifier", s, ig.ID, 1, 2, QualLanguage),
									el("67", "Identification Code", s, ig.AN, 2, 80),
									el("352", "Description", s, ig.AN, 1, 80),
								}},
								dtp("Site Contract Date"),
								&ig.Segment{ID: "QTY", Name: "Site Quantity", Usage: s, Pos: 1400, MaxUse: 0, Elements: []ig.Element{
									el("673", "Quantity Qualifier", r, ig.ID, 2, 2),
									el("380", "Quantity", r, ig.R, 1, 15),
								}},
								&ig.Segment{ID: "CRC", Name: "Site Condition", Usage: s, Pos: 1500, MaxUse: 9, Elements: []ig.Element{
									el("1136", "Code Category", r, ig.ID, 2, 2),
									el("1073", "Yes/No Condition or Response Code", r, ig.ID, 1, 1, "Y", "N"),
									el("1321", "Condition Indicator", r, ig.ID, 2, 3),
									el("1321", "Condition Indicator", s, ig.ID, 2, 3),
									el("1321", "Condition Indicator", s, ig.ID, 2, 3),
									el("1321", "Condition Indicator", s, ig.ID, 2, 3),
									el("1321", "Condition Indicator", s, ig.ID, 2, 3),
								}},
								&ig.Loop{ID: "2110DA", Name: "Site Location", Usage: r, Pos: 1700, Repeat: 1, Children: []ig.Node{
									&ig.Segment{ID: "NX1", Name: "Site Location", Usage: r, Pos: 1700, MaxUse: 1, Elements: []ig.Element{
										el("98", "Entity Identifier Code", r, ig.ID, 2, 3, EntitySite),
									}},
									&ig.Segment{ID: "N3", Name: "Site Address", Usage: r, Pos: 1800, MaxUse: 1, Elements: []ig.Element{
										el("166", "Address Information", r, ig.AN, 1, 55),
										el("166", "Address Information", s, ig.AN, 1, 55),
									}},
									&ig.Segment{ID: "N4", Name: "Site City, State, ZIP Code", Usage: r, Pos: 1900, MaxUse: 1, Syntax: []ig.Rule{"P0506"}, Elements: []ig.Element{
										el("19", "City Name", r, ig.AN, 2, 30),
										{Ref: "156", Name: "State or Province Code", Usage: r, Type: ig.ID, Min: 2, Max: 2, CodeList: "states"},
										{Ref: "116", Name: "Postal Code", Usage: r, Type: ig.ID, Min: 3, Max: 15, Pattern: "[0-9]{5}([0-9]{4})?"},
										el("26", "Country Code", n, ig.ID, 2, 3),
										el("309", "Location Qualifier", s, ig.ID, 1, 2, QualCounty),
										{Ref: "310", Name: "Location Identifier", Usage: s, Type: ig.AN, Min: 1, Max: 30, Pattern: "[0-9]{2}"},
									}},
								}},
								lq("2120DA", "Site Specialization"),
								ref("Site Identification"),
							}},
							&ig.Loop{ID: "2100DB", Name: "Site Affiliated Entity", Usage: s, Pos: 300, Repeat: 0, Children: []ig.Node{
								nm1IDs("Affiliated Entity Name", []string{EntityAffiliated}, false, s, QualAffiliated),
							}},
							&ig.Loop{ID: "2000E", Name: "Provider Level", Usage: s, Pos: 3700, Repeat: 0, Children: []ig.Node{
								hl("Provider Level", LevelProvider, r),
								&ig.Loop{ID: "2100EA", Name: "Provider", Usage: r, Pos: 300, Repeat: 1, Children: []ig.Node{
									nm1("Provider Name", EntityProvider, true, QualNPI),
									n2("Provider Additional Name"),
									dtp("Provider Contract Date"),
									lq("2120EA", "Provider Specialization"),
									ref("Provider Identification"),
								}},
							}},
						}},
					}},
				}},
			}},
			&ig.Segment{ID: "SE", Name: "Transaction Set Trailer", Usage: r, Pos: 3800, MaxUse: 1, Elements: []ig.Element{
				el("96", "Number of Included Segments", r, ig.N0, 1, 10),
				el("329", "Transaction Set Control Number", r, ig.AN, 4, 9),
			}},
		},
	}
})

// Register adds the 274 table to r with its NPI check-digit check (an NM1
// with NM108 "XX" whose NM109 fails the check digit is an element finding).
// No registry holds the 274 unless it is added this way.
func Register(r *ig.Registry) error {
	if err := r.Use(Spec274(), newNPICheck); err != nil {
		return fmt.Errorf("x274: register the 274 table: %w", err)
	}
	return nil
}

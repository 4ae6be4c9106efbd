package x274

import (
	"errors"
	"fmt"
	"io"
	"strconv"

	"github.com/calaim-gateway/calaim-gateway/domain"
	"github.com/calaim-gateway/calaim-gateway/edi/x12"
	"github.com/calaim-gateway/calaim-gateway/internal/civil"
)

// File is a 274 as read back: the envelope values that matter and the
// records, in file order. It is the reader twin of Encoder: what Encoder
// writes, Read returns (names as cleaned for X12).
type File struct {
	SenderID, ReceiverID string // ISA06, ISA08 (trimmed)
	AuthQualifier        string // ISA01
	AuthInfo             string // ISA02 (trimmed): the reporting period, YYMM in the DHCS production file
	GroupSender          string // GS02
	GroupReceiver        string // GS03
	Interchange          int64  // ISA13
	GroupControl         int64  // GS06
	Transaction          string // ST02
	Purpose, Reference   string // BHT02, BHT03
	Source, Receiver     Party
	Network              string // 2100A NM1*NN name
	Groups               []Group
}

// Sites returns every site of the file in order.
func (f *File) Sites() []*Site {
	var out []*Site
	for i := range f.Groups {
		for j := range f.Groups[i].Sites {
			out = append(out, &f.Groups[i].Sites[j])
		}
	}
	return out
}

// Read reads one 274 interchange holding one transaction set. It does not
// validate (ig.NewValidator with this package's table does); it fails only
// on what stops it from placing a segment: a level without its parent, a
// second transaction set, an unreadable date.
func Read(r io.Reader) (*File, error) {
	rd := x12.NewReader(r)
	f := &File{}
	var (
		level string // HL03 of the open level
		group *Group
		site  *Site
		prov  *Provider
		sets  int
		// affiliate: inside a site's affiliated-entity name loop (NM1*30),
		// whose segments are not the site's.
		affiliate bool
	)
	for {
		seg, err := rd.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		bad := func(format string, a ...any) error {
			return fmt.Errorf("x274: segment %d (line %d) %s: %s", seg.Ordinal, seg.Line, seg.ID(), fmt.Sprintf(format, a...))
		}
		id := string(seg.ID())
		if affiliate && id != "HL" && id != "NM1" {
			continue
		}
		switch id {
		case "ISA":
			f.AuthQualifier = trim(seg.ElementString(1))
			f.AuthInfo = trim(seg.ElementString(2))
			f.SenderID = trim(seg.ElementString(6))
			f.ReceiverID = trim(seg.ElementString(8))
			f.Interchange, _ = strconv.ParseInt(seg.ElementString(13), 10, 64)
		case "GS":
			f.GroupSender, f.GroupReceiver = seg.ElementString(2), seg.ElementString(3)
			f.GroupControl, _ = strconv.ParseInt(seg.ElementString(6), 10, 64)
		case "ST":
			if sets++; sets > 1 {
				return nil, bad("a second transaction set: Read takes one per file")
			}
			f.Transaction = seg.ElementString(2)
		case "BHT":
			f.Purpose, f.Reference = seg.ElementString(2), seg.ElementString(3)
		case "HL":
			level, affiliate = seg.ElementString(3), false
			switch level {
			case LevelSource, LevelReceiver:
			case LevelGroup:
				f.Groups = append(f.Groups, Group{})
				group, site, prov = &f.Groups[len(f.Groups)-1], nil, nil
			case LevelSite:
				if group == nil {
					return nil, bad("a site level before any group level")
				}
				group.Sites = append(group.Sites, Site{Ordinal: seg.Ordinal, Line: seg.Line})
				site, prov = &group.Sites[len(group.Sites)-1], nil
			case LevelProvider:
				if site == nil {
					return nil, bad("a provider level before any site level")
				}
				site.Providers = append(site.Providers, Provider{})
				prov = &site.Providers[len(site.Providers)-1]
			default:
				return nil, bad("unknown hierarchical level code %q", level)
			}
		case "NM1":
			p := Party{Name: seg.ElementString(3), IDQualifier: seg.ElementString(8), ID: seg.ElementString(9)}
			switch level {
			case LevelSource:
				if seg.ElementString(1) == EntityNetwork {
					f.Network = p.Name
				} else {
					f.Source = p
				}
			case LevelReceiver:
				f.Receiver = p
			case LevelGroup:
				group.Name, group.IDQualifier, group.ID = p.Name, p.IDQualifier, p.ID
			case LevelSite:
				if affiliate = seg.ElementString(1) == EntityAffiliated; affiliate {
					site.Affiliated = append(site.Affiliated, p)
				} else {
					site.Name, site.NPI = p.Name, p.ID
				}
			case LevelProvider:
				prov.Last, prov.First, prov.NPI = p.Name, seg.ElementString(4), p.ID
			default:
				return nil, bad("NM1 outside a hierarchical level")
			}
		case "N2":
			var names []string
			for i := 1; i <= seg.Len(); i++ {
				names = append(names, seg.ElementString(i))
			}
			switch level {
			case LevelGroup:
				group.Names = names
			case LevelSite:
				site.Names = names
			}
		case "CRC":
			if level == LevelSite {
				c := Condition{Category: seg.ElementString(1), Response: seg.ElementString(2)}
				for i := 3; i <= seg.Len(); i++ {
					c.Indicators = append(c.Indicators, seg.ElementString(i))
				}
				site.Conditions = append(site.Conditions, c)
			}
		case "TPB":
			var sps []Specialty
			switch level {
			case LevelSite:
				sps = site.Specialties
			case LevelProvider:
				sps = prov.Specialties
			}
			if len(sps) == 0 {
				return nil, bad("TPB without the LQ it follows")
			}
			sps[len(sps)-1].Titles = append(sps[len(sps)-1].Titles, seg.ElementString(1))
		case "PER":
			c := &Contact{Name: seg.ElementString(2)}
			for i := 3; i+1 <= seg.Len(); i += 2 {
				switch seg.ElementString(i) {
				case "TE":
					c.Phone = seg.ElementString(i + 1)
				case "EM":
					c.Email = seg.ElementString(i + 1)
				}
			}
			if level == LevelSite {
				site.Contact = c
			}
		case "LUI":
			if level == LevelSite {
				site.Languages = append(site.Languages, seg.ElementString(2))
			}
		case "DTP":
			if level != LevelSite {
				continue
			}
			d, err := civil.Parse(seg.ElementString(3))
			if err != nil {
				return nil, bad("DTP03: %v", err)
			}
			switch seg.ElementString(1) {
			case DateEffective:
				site.From = d
			case DateExpiration:
				site.To = d
			}
		case "QTY":
			if level == LevelSite {
				v, err := strconv.ParseInt(seg.ElementString(2), 10, 64)
				if err != nil {
					return nil, bad("QTY02 is not a whole number")
				}
				site.Quantities = append(site.Quantities, Quantity{Qualifier: seg.ElementString(1), Value: v})
			}
		case "REF":
			if level == LevelSite {
				site.References = append(site.References, Reference{Qualifier: seg.ElementString(1), Value: seg.ElementString(2)})
			}
		case "N3":
			if level == LevelSite {
				site.Address.Street = seg.ElementString(1)
			}
		case "N4":
			if level == LevelSite {
				site.Address = domain.Address{Street: site.Address.Street, City: seg.ElementString(1), State: seg.ElementString(2), Zip: seg.ElementString(3)}
				if seg.ElementString(5) == QualCounty {
					site.County = seg.ElementString(6)
				}
			}
		case "LQ":
			sp := Specialty{Qualifier: seg.ElementString(1), Code: seg.ElementString(2)}
			switch level {
			case LevelSite:
				site.Specialties = append(site.Specialties, sp)
			case LevelProvider:
				prov.Specialties = append(prov.Specialties, sp)
			}
		}
	}
	if sets == 0 {
		return nil, errors.New("x274: no transaction set")
	}
	return f, nil
}

func trim(s string) string {
	for len(s) > 0 && s[len(s)-1] == ' ' {
		s = s[:len(s)-1]
	}
	return s
}

package snip

import "github.com/calaim-gateway/calaim-gateway/rules"

// HCPCSShape reports whether v is shaped like a HCPCS Level II or CPT code:
// five characters, a letter or digit, three digits, a letter or digit.
func HCPCSShape(v string) bool {
	if len(v) != 5 || !alnum(v[0]) || !alnum(v[4]) {
		return false
	}
	return digits(v[1:4])
}

// ICD10Shape reports whether v is shaped like an ICD-10-CM code as X12
// sends it (no dot): a letter, a digit, a letter or digit, then up to four
// letters or digits (3 to 7 characters).
func ICD10Shape(v string) bool {
	if len(v) < 3 || len(v) > 7 || !upper(v[0]) || !digit(v[1]) {
		return false
	}
	for i := 2; i < len(v); i++ {
		if !alnum(v[i]) {
			return false
		}
	}
	return true
}

// posCodes is the CMS Place of Service code set (cms.gov, "Place of Service
// Code Set", codes in use as of 2025-01-01). Unassigned codes are left out.
var posCodes = map[string]bool{
	"01": true, "02": true, "03": true, "04": true, "05": true, "06": true, "07": true, "08": true, "09": true, "10": true,
	"11": true, "12": true, "13": true, "14": true, "15": true, "16": true, "17": true, "18": true, "19": true, "20": true,
	"21": true, "22": true, "23": true, "24": true, "25": true, "26": true, "27": true,
	"31": true, "32": true, "33": true, "34": true, "41": true, "42": true,
	"49": true, "50": true, "51": true, "52": true, "53": true, "54": true, "55": true, "56": true, "57": true, "58": true,
	"60": true, "61": true, "62": true, "65": true, "66": true, "71": true, "72": true, "81": true, "99": true,
}

// PlaceOfService reports whether v is a CMS place of service code.
func PlaceOfService(v string) bool { return posCodes[v] }

// NPI reports whether v is ten digits with a valid NPI check digit.
func NPI(v string) bool { return rules.ValidNPI(v) }

// states are the USPS codes of the states, DC, the territories and the
// armed forces.
var states = map[string]bool{
	"AL": true, "AK": true, "AZ": true, "AR": true, "CA": true, "CO": true, "CT": true, "DE": true, "DC": true, "FL": true,
	"GA": true, "HI": true, "ID": true, "IL": true, "IN": true, "IA": true, "KS": true, "KY": true, "LA": true, "ME": true,
	"MD": true, "MA": true, "MI": true, "MN": true, "MS": true, "MO": true, "MT": true, "NE": true, "NV": true, "NH": true,
	"NJ": true, "NM": true, "NY": true, "NC": true, "ND": true, "OH": true, "OK": true, "OR": true, "PA": true, "RI": true,
	"SC": true, "SD": true, "TN": true, "TX": true, "UT": true, "VT": true, "VA": true, "WA": true, "WV": true, "WI": true,
	"WY": true, "AS": true, "GU": true, "MP": true, "PR": true, "VI": true, "FM": true, "MH": true, "PW": true,
	"AA": true, "AE": true, "AP": true,
}

// State reports whether v is a USPS state code.
func State(v string) bool { return states[v] }

// ZIP reports whether v is a 5- or 9-digit ZIP code.
func ZIP(v string) bool { return (len(v) == 5 || len(v) == 9) && digits(v) }

func digit(c byte) bool { return c >= '0' && c <= '9' }
func upper(c byte) bool { return c >= 'A' && c <= 'Z' }
func alnum(c byte) bool { return digit(c) || upper(c) }
func digits(s string) bool {
	for i := 0; i < len(s); i++ {
		if !digit(s[i]) {
			return false
		}
	}
	return true
}

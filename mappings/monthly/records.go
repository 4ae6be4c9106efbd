// Package monthly maps the gateway's state to the records of the monthly
// ECM and Community Supports monitoring JSON (schemas/monthly.schema.json):
// a member's enrollment spans, authorizations and encounter lines sent in
// the month to the member-level data sets, the roster's sites to the
// provider networks, the lines to Community Supports utilization. Pure:
// no I/O; pipelines/monthly reads the store and writes the file.
//
// The record types' fields are in the schema's order; a field with no
// source in the state is null where the schema allows it and named in
// Absent, never invented.
package monthly

// Base is what every record carries (DHCS house style). RecordID,
// RecordType and ParentRecordID are set by the caller, which knows the
// month's earlier files; PlanCode by the mapping.
type Base struct {
	RecordID       string `json:"recordId"`
	RecordType     string `json:"recordType"`
	ParentRecordID string `json:"parentRecordId,omitempty"`
	PlanCode       string `json:"planCode"`
}

// Record is one record of a data set.
type Record interface {
	base() *Base
}

func (b *Base) base() *Base { return b }

// BaseOf returns a record's common fields, for the caller to set its
// identity.
func BaseOf(r Record) *Base { return r.base() }

// Record types, one per data set.
type (
	EnrollmentRecord struct {
		Base
		CIN                 string  `json:"cin"`
		EnrollmentStatus    string  `json:"enrollmentStatus"`
		ECMStartDate        string  `json:"ecmStartDate"`
		ECMEndDate          *string `json:"ecmEndDate"`
		DisenrollmentReason *string `json:"disenrollmentReason"`
	}
	POFRecord struct {
		Base
		CIN               string `json:"cin"`
		PopulationOfFocus string `json:"populationOfFocus"`
	}
	OutreachRecord struct {
		Base
		CIN             string   `json:"cin"`
		ProviderNPI     string   `json:"providerNpi"`
		OutreachDate    string   `json:"outreachDate"`
		ProcedureCode   string   `json:"procedureCode"`
		Modifiers       []string `json:"modifiers"`
		OutreachOutcome string   `json:"outreachOutcome"`
		OutreachMethod  string   `json:"outreachMethod"`
	}
	AuthorizationRecord struct {
		Base
		AuthorizationID     string  `json:"authorizationId"`
		CIN                 string  `json:"cin"`
		AuthorizationType   string  `json:"authorizationType"`
		AuthorizationStatus string  `json:"authorizationStatus"`
		RequestDate         *string `json:"requestDate"`
		DecisionDate        *string `json:"decisionDate"`
		TurnaroundDays      *int    `json:"turnaroundDays"`
		StartDate           string  `json:"startDate"`
		EndDate             *string `json:"endDate"`
		ProviderNPI         *string `json:"providerNpi"`
		DenialReason        *string `json:"denialReason"`
	}
	ECMAuthorizationRecord struct {
		AuthorizationRecord
		PopulationOfFocus *string `json:"populationOfFocus"`
	}
	CSAuthorizationRecord struct {
		AuthorizationRecord
		CommunitySupport string `json:"communitySupport"`
	}
	LeadCareManagerRecord struct {
		Base
		CIN                 string  `json:"cin"`
		ECMProviderNPI      string  `json:"ecmProviderNpi"`
		AssignmentDate      string  `json:"assignmentDate"`
		LeadCareManagerName *string `json:"leadCareManagerName"`
	}
	NetworkRecord struct {
		Base
		ProviderNPI  string `json:"providerNpi"`
		ProviderName string `json:"providerName"`
		County       string `json:"county"`
	}
	ECMNetworkRecord struct {
		NetworkRecord
		PopulationsOfFocus []string `json:"populationsOfFocus"`
		Capacity
	}
	CSNetworkRecord struct {
		NetworkRecord
		CommunitySupports []string `json:"communitySupports"`
		Capacity
	}
	Capacity struct {
		CapacityCurrent   *int    `json:"capacityCurrent"`
		CapacityMaximum   *int    `json:"capacityMaximum"`
		ContractStartDate string  `json:"contractStartDate"`
		ContractEndDate   *string `json:"contractEndDate"`
	}
	CSServiceRecord struct {
		Base
		CIN              string   `json:"cin"`
		CommunitySupport string   `json:"communitySupport"`
		ServiceFromDate  string   `json:"serviceFromDate"`
		ServiceToDate    string   `json:"serviceToDate"`
		ProcedureCode    string   `json:"procedureCode"`
		Modifiers        []string `json:"modifiers"`
		Units            Number   `json:"units"`
		BilledAmount     string   `json:"billedAmount"`
		ProviderNPI      string   `json:"providerNpi"`
	}
	CSUtilizationRecord struct {
		Base
		CommunitySupport string   `json:"communitySupport"`
		ProcedureCode    string   `json:"procedureCode"`
		Modifiers        []string `json:"modifiers"`
		MembersServed    int      `json:"membersServed"`
		Services         int      `json:"services"`
		Units            Number   `json:"units"`
		BilledAmount     string   `json:"billedAmount"`
	}
	TransitionalRentRecord struct {
		Base
		AuthorizationID     string  `json:"authorizationId"`
		CIN                 string  `json:"cin"`
		AuthorizationStatus string  `json:"authorizationStatus"`
		DecisionDate        *string `json:"decisionDate"`
		StartDate           string  `json:"startDate"`
		EndDate             *string `json:"endDate"`
		ServicesReceived    int     `json:"servicesReceived"`
		BilledAmount        string  `json:"billedAmount"`
	}
)

// Number is a quantity in thousandths written as a JSON number with no
// trailing zeros (14, 14.5, 0.125).
type Number int64

// MarshalJSON writes the number exactly.
func (n Number) MarshalJSON() ([]byte, error) {
	neg := n < 0
	if neg {
		n = -n
	}
	whole, frac := int64(n)/1000, int64(n)%1000
	b := []byte{}
	if neg {
		b = append(b, '-')
	}
	b = appendInt(b, whole)
	if frac != 0 {
		d := []byte{byte('0' + frac/100), byte('0' + frac/10%10), byte('0' + frac%10)}
		for len(d) > 0 && d[len(d)-1] == '0' {
			d = d[:len(d)-1]
		}
		b = append(append(b, '.'), d...)
	}
	return b, nil
}

func appendInt(b []byte, v int64) []byte {
	if v >= 10 {
		b = appendInt(b, v/10)
	}
	return append(b, byte('0'+v%10))
}

// MemberOf returns the CIN of a member-level record ("" for a network or
// utilization record).
func MemberOf(r Record) string {
	switch r := r.(type) {
	case *EnrollmentRecord:
		return r.CIN
	case *POFRecord:
		return r.CIN
	case *OutreachRecord:
		return r.CIN
	case *ECMAuthorizationRecord:
		return r.CIN
	case *CSAuthorizationRecord:
		return r.CIN
	case *LeadCareManagerRecord:
		return r.CIN
	case *CSServiceRecord:
		return r.CIN
	case *TransitionalRentRecord:
		return r.CIN
	}
	return ""
}

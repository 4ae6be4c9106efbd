package monthly

import "testing"

// What DHCS holds of an identity after the records sent for it
// (MCPD: a Resubmission or Void names a previously accepted record).
func TestStanding(t *testing.T) {
	orig := Sent{RecordID: "R1", RecordType: TypeOriginal, Status: StatusAccepted, ContentHash: "c1"}
	resub := Sent{RecordID: "R2", RecordType: TypeResubmission, Status: StatusAccepted, ContentHash: "c2"}
	void := Sent{RecordID: "R3", RecordType: TypeVoid, Status: StatusAccepted, ContentHash: "c2"}
	rejected := func(s Sent) Sent { s.Status = StatusRejected; return s }
	unanswered := func(s Sent) Sent { s.Status = ""; return s }
	tests := []struct {
		name string
		sent []Sent
		want string // the held record's ID, "" for none
	}{
		{"nothing sent", nil, ""},
		{"an accepted Original", []Sent{orig}, "R1"},
		{"a rejected Original", []Sent{rejected(orig)}, ""},
		{"an Original without a response", []Sent{unanswered(orig)}, ""},
		{"an accepted Resubmission replaces it", []Sent{orig, resub}, "R2"},
		{"a rejected Resubmission leaves the Original", []Sent{orig, rejected(resub)}, "R1"},
		{"an accepted Void withdraws it", []Sent{orig, void}, ""},
		{"a rejected Void leaves it", []Sent{orig, resub, rejected(void)}, "R2"},
		{"an Original after an accepted Void", []Sent{orig, void, {RecordID: "R4", RecordType: TypeOriginal, Status: StatusAccepted}}, "R4"},
	}
	for _, tc := range tests {
		got, ok := Standing(tc.sent)
		if ok != (tc.want != "") || got.RecordID != tc.want {
			t.Errorf("%s: held %q (%v), want %q", tc.name, got.RecordID, ok, tc.want)
		}
	}
}

// What a resubmission sends for an identity.
func TestDecide(t *testing.T) {
	held := &Sent{RecordID: "R1", RecordType: TypeOriginal, Status: StatusAccepted, ContentHash: "c1"}
	tests := []struct {
		name     string
		standing *Sent
		present  bool
		content  string
		want     Decision
	}{
		{"new", nil, true, "c1", Decision{Send: true, RecordType: TypeOriginal}},
		{"gone and never held", nil, false, "", Decision{}},
		{"held unchanged", held, true, "c1", Decision{}},
		{"held and changed", held, true, "c2", Decision{Send: true, RecordType: TypeResubmission, Parent: "R1"}},
		{"held and gone", held, false, "", Decision{Send: true, RecordType: TypeVoid, Parent: "R1"}},
	}
	for _, tc := range tests {
		if got := Decide(tc.standing, tc.present, tc.content); got != tc.want {
			t.Errorf("%s: %+v, want %+v", tc.name, got, tc.want)
		}
	}
}

package x274

import (
	"reflect"
	"strconv"
	"strings"
	"testing"
)

// b7File is a 274 written by hand in the shape of the production file a
// plan sent to DHCS (dhcs-observed-formats.md B7 [P]), with made-up
// values: not produced by the Encoder.
func b7File() string {
	body := []string{
		"ST*274*0001*004050X109",
		"BHT*0028*27*REF1*20181010*1200",
		"DTM*507*20181010",
		"PER*BJ*PLAN*TE*9095550100",
		"HL*1**20*1", "NM1*ACV*2*PLAN*****FI*951234567", "NM1*NN*2*DEFAULT",
		"HL*2*1*21*1", "NM1*40*2*DHCS Managed Care",
		"HL*3*2*4*1", "NM1*QV*2*GROUP*****XX*1234500001", "N2*941234567", "DTP*092*D8*20170101", "LQ*68*261QM0801X", "REF*N5*A1;B1;C1",
		"HL*4*3*N*1", "NM1*77*2*SITE*****XX*1456789019",
		"N2*123456789;17;;33;0;0;0;0;0;0;0;Y*;N;UCC;;;N",
		"PER*AJ**TE*9515550142*EM*SITE@EXAMPLE.ORG", "DTP*092*D8*20170101", "CRC*DJ*Y*1S",
		"NX1*77", "N3*3900 MAIN ST", "N4*RIVERSIDE*CA*92501",
		"LQ*68*261QM0801X", "TPB*3G", "LQ*68*251S00000X", "TPB*3E",
		"REF*N5*A1;B1;C1",
		"NM1*30*2*AFFILIATE*****EQ*E123",
		"HL*5*4*19*0", "NM1*1P*1*DOE*JANE****XX*1765432103",
		"N2*123;F;19700101;000000000;;;;;;;;;*LIC1;MD;CA;5;;;", "DTP*092*D8*20170101",
		"LQ*68*207Q00000X", "TPB*3G", "REF*N5*A1;B1;C2",
	}
	body = append(body, "SE*"+strconv.Itoa(len(body)+1)+"*0001")
	return "ISA*03*1702      *00*          *ZZ*951234567305   *ZZ*DHCS-PROV-NETWK*181010*1200*^*00405*000000001*0*P*:~" +
		"GS*PW*951234567*DHCS-PROV-NETWK*20181010*1200*1*X*004050X109~" + strings.Join(body, "~") + "~GE*1*1~IEA*1*000000001~"
}

// The table and the reader accept the production file's shape: the
// validator finds nothing, and Read places every segment the gateway
// writes where the Encoder would have put it.
func TestProductionShapeValidatesAndReads(t *testing.T) {
	data := []byte(b7File())
	fs, sum := validate(t, data)
	for _, f := range fs {
		t.Errorf("finding: %s", f.String())
	}
	if sum.Accepted != 1 {
		t.Errorf("summary %+v", sum)
	}
	f, err := Read(strings.NewReader(string(data)))
	if err != nil {
		t.Fatal(err)
	}
	if f.AuthInfo != "1702" || f.SenderID != "951234567305" || f.GroupSender != "951234567" || f.Network != "DEFAULT" ||
		f.Source != (Party{Name: "PLAN", IDQualifier: QualTIN, ID: "951234567"}) || f.Receiver != (Party{Name: "DHCS Managed Care"}) {
		t.Errorf("envelope and heading: %+v", f)
	}
	g := f.Groups[0]
	if g.IDQualifier != QualNPI || g.ID != "1234500001" || !reflect.DeepEqual(g.Names, []string{"941234567"}) {
		t.Errorf("group %+v", g)
	}
	s := g.Sites[0]
	want := []any{
		s.Name + " " + s.NPI, "SITE 1456789019",
		s.Affiliated, []Party{{Name: "AFFILIATE", IDQualifier: QualAffiliated, ID: "E123"}},
		s.CountyCode(), "33",
		s.County, "",
		SubField(s.Names[1], 3), "UCC",
		s.Conditions, []Condition{{Category: "DJ", Response: "Y", Indicators: []string{"1S"}}},
		s.Specialties, []Specialty{{Qualifier: "68", Code: "261QM0801X", Titles: []string{"3G"}}, {Qualifier: "68", Code: "251S00000X", Titles: []string{"3E"}}},
		s.References, []Reference{{Qualifier: QualSiteIDs, Value: "A1;B1;C1"}},
		s.Contact, &Contact{Phone: "9515550142", Email: "SITE@EXAMPLE.ORG"},
		s.Providers[0].Specialties, []Specialty{{Qualifier: "68", Code: "207Q00000X", Titles: []string{"3G"}}},
	}
	for i := 0; i < len(want); i += 2 {
		if !reflect.DeepEqual(want[i], want[i+1]) {
			t.Errorf("site value %d: %#v, want %#v", i/2, want[i], want[i+1])
		}
	}
	if n := len(strings.Split(s.Names[0], SubFieldSeparator)); n != N201SubFields {
		t.Errorf("N201 has %d sub-fields", n)
	}
}

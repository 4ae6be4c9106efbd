package gateway

import (
	"context"
	"fmt"
	"time"

	pipeadt "github.com/calaim-gateway/calaim-gateway/pipelines/adt"

	"github.com/calaim-gateway/calaim-gateway/pipelines/mllpd"
	"github.com/calaim-gateway/calaim-gateway/store"
)

// MLLPOptions configure the standalone MLLP listener.
type MLLPOptions struct {
	Options
	// Listen is the address to listen on (host:port); "" = the
	// configuration's mllp.listen.
	Listen string
	// Ready, when set, is called with the address listened on once the
	// listener is bound.
	Ready func(addr string)
}

// MLLP runs the MLLP listener alone until ctx ends: HL7 v2 messages over
// MLLP (TLS, allow-list, limits from the configuration's mllp: section)
// into the state store's inbox, each acknowledged once committed.
func MLLP(ctx context.Context, o MLLPOptions) error {
	g, err := Open(ctx, o.Options)
	if err != nil {
		return err
	}
	defer g.Close()
	in, ok := g.st.(store.Inbox)
	if !ok {
		return fmt.Errorf("mllp: the state store %T has no HL7 inbox", g.st)
	}
	mc := g.Config.MLLP
	if o.Listen != "" {
		mc.Listen = o.Listen
	}
	l, err := mllpd.Listen(mllpd.Options{Config: mc, Inbox: in, Log: g.log, ProcessingIDs: g.Config.ADT.TakenProcessingIDs()})
	if err != nil {
		return err
	}
	if o.Ready != nil {
		o.Ready(l.Addr().String())
	}
	// The inbox becomes ADT events beside the listener, as in calgw run.
	drained := make(chan struct{})
	if st, ok := g.st.(pipeadt.Store); ok {
		proc := &pipeadt.Processor{Store: st, Profiles: pipeadt.Profiles(g.Config)}
		go func() { defer close(drained); proc.RunInbox(ctx, in, time.Second, g.log) }()
	} else {
		close(drained)
	}
	err = l.Serve(ctx)
	<-drained
	return err
}

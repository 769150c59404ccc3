package scaleout

import (
	"bytes"
	"io"
	"net"
	"sync"
	"testing"
)

// chProxy forwards TCP connections to ClickHouse's native port and can
// hold a statement: the native protocol sends a query's text uncompressed
// (only data blocks are compressed), so the proxy finds a statement by its
// text in what the client sends and stops forwarding that connection until
// released. The server never receives the held statement; a client killed
// meanwhile leaves it unexecuted, as a crash just before it would.
type chProxy struct {
	target string
	ln     net.Listener

	mu    sync.Mutex
	traps []*trap
	conns []net.Conn
}

// trap holds every statement containing pattern until released; with
// after, only once a statement containing after went through.
type trap struct {
	pattern []byte
	after   []byte
	armed   bool          // guarded by chProxy.mu
	hit     chan struct{} // closed at the first statement held
	release chan struct{}
	once    sync.Once
	rel     sync.Once
}

// Hit is closed once a statement is held.
func (t *trap) Hit() <-chan struct{} { return t.hit }

// Release lets the held statements (and later ones) through.
func (t *trap) Release() { t.rel.Do(func() { close(t.release) }) }

func (t *trap) released() bool {
	select {
	case <-t.release:
		return true
	default:
		return false
	}
}

func newCHProxy(t *testing.T, target string) *chProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &chProxy{target: target, ln: ln}
	go p.accept()
	t.Cleanup(p.close)
	return p
}

func (p *chProxy) addr() string { return p.ln.Addr().String() }

// hold arms a trap on statements containing pattern.
func (p *chProxy) hold(pattern string) *trap { return p.holdAfter("", pattern) }

// holdAfter arms a trap on statements containing pattern sent after one
// containing after was forwarded (on any connection).
func (p *chProxy) holdAfter(after, pattern string) *trap {
	tr := &trap{pattern: []byte(pattern), after: []byte(after), armed: after == "", hit: make(chan struct{}), release: make(chan struct{})}
	p.mu.Lock()
	p.traps = append(p.traps, tr)
	p.mu.Unlock()
	return tr
}

func (p *chProxy) close() {
	p.ln.Close()
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, tr := range p.traps {
		tr.Release()
	}
	for _, c := range p.conns {
		c.Close()
	}
}

func (p *chProxy) accept() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		s, err := net.Dial("tcp", p.target)
		if err != nil {
			c.Close()
			continue
		}
		p.mu.Lock()
		p.conns = append(p.conns, c, s)
		p.mu.Unlock()
		go func() { _, _ = io.Copy(c, s); c.Close() }()
		go func() { p.forward(s, c); s.Close() }()
	}
}

// forward copies the client's bytes to the server, holding a chunk that
// completes a trapped pattern (the tail of the previous chunk is kept, so
// a pattern split over two reads is found).
func (p *chProxy) forward(dst, src net.Conn) {
	buf := make([]byte, 64<<10)
	var tail []byte
	for {
		n, err := src.Read(buf)
		if n > 0 {
			seen := append(tail, buf[:n]...)
			if tr := p.match(seen); tr != nil {
				tr.once.Do(func() { close(tr.hit) })
				<-tr.release
				seen = nil
			}
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
			p.arm(seen)
			tail = append(tail[:0], seen[max(0, len(seen)-256):]...)
		}
		if err != nil {
			return
		}
	}
}

// arm arms the traps waiting for a statement in b that went through.
func (p *chProxy) arm(b []byte) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, tr := range p.traps {
		if !tr.armed && bytes.Contains(b, tr.after) {
			tr.armed = true
		}
	}
}

func (p *chProxy) match(b []byte) *trap {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, tr := range p.traps {
		if tr.armed && !tr.released() && bytes.Contains(b, tr.pattern) {
			return tr
		}
	}
	return nil
}

package sharedarea

import (
	"bytes"
	"errors"
	"sync"
	"testing"

	"uwsgo/internal/shm"
)

func newArea(t *testing.T, pages int) (*Area, *shm.Segment) {
	t.Helper()
	seg, err := shm.Create("sharedarea-test", Size(pages))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { seg.File().Close() })
	return Attach(seg, 0, pages), seg
}

func TestReadWrite(t *testing.T) {
	a, seg := newArea(t, 2)
	if a.Len() != 2*PageSize {
		t.Fatalf("Len = %d", a.Len())
	}
	if err := a.Write(100, []byte("hello")); err != nil {
		t.Fatal(err)
	}
	b, err := a.Read(98, 9)
	if err != nil || !bytes.Equal(b, []byte("\x00\x00hello\x00\x00")) {
		t.Errorf("Read = %q, %v", b, err)
	}
	// Read returns a copy.
	b[2] = 'H'
	if b, _ := a.Read(100, 1); b[0] != 'h' {
		t.Error("changing what Read returned changed the area")
	}
	// n 0: to the end.
	if b, err := a.Read(8000, 0); err != nil || len(b) != 2*PageSize-8000 {
		t.Errorf("Read(8000, 0): %d bytes, %v", len(b), err)
	}
	// The last byte is in range, the next is not.
	if err := a.Write(2*PageSize-1, []byte{7}); err != nil {
		t.Error(err)
	}
	// Another mapping sees it.
	other := Attach(mustMap(t, seg, Size(2)), 0, 2)
	if b, _ := other.Read(100, 5); string(b) != "hello" {
		t.Errorf("the other mapping reads %q", b)
	}
}

func mustMap(t *testing.T, seg *shm.Segment, size int) *shm.Segment {
	t.Helper()
	m, err := shm.Map(seg.File(), size)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestRange(t *testing.T) {
	a, _ := newArea(t, 1)
	for _, c := range []struct {
		name string
		err  error
	}{
		{"read past the end", func() error { _, err := a.Read(4090, 10); return err }()},
		{"read from past the end", func() error { _, err := a.Read(5000, 1); return err }()},
		{"read to the end from past it", func() error { _, err := a.Read(5000, 0); return err }()},
		{"read at -1", func() error { _, err := a.Read(-1, 1); return err }()},
		{"read -1 bytes", func() error { _, err := a.Read(0, -1); return err }()},
		{"write past the end", a.Write(4094, []byte("abc"))},
		{"write at -1", a.Write(-1, []byte("a"))},
		{"long past the end", func() error { _, err := a.AddLong(4089, 1); return err }()},
		{"long at -8", func() error { _, err := a.AddLong(-8, 1); return err }()},
		{"write long past the end", a.WriteLong(4092, 1)},
	} {
		if !errors.Is(c.err, ErrRange) {
			t.Errorf("%s: %v, want ErrRange", c.name, c.err)
		}
	}
	if b, _ := a.Read(4088, 8); !bytes.Equal(b, make([]byte, 8)) {
		t.Errorf("refused writes wrote: %q", b)
	}
	if _, err := a.AddLong(4088, 1); err != nil {
		t.Errorf("the last long: %v", err)
	}
}

func TestLongs(t *testing.T) {
	a, _ := newArea(t, 1)
	if err := a.WriteLong(8, 1234567890123); err != nil {
		t.Fatal(err)
	}
	if v, _ := a.AddLong(8, 0); v != 1234567890123 {
		t.Errorf("read back %d", v)
	}
	if v, _ := a.AddLong(8, -1234567890124); v != -1 {
		t.Errorf("after adding: %d", v)
	}
	// Little-endian, as uWSGI keeps an int64 on x86.
	a.WriteLong(16, 0x0102)
	if b, _ := a.Read(16, 8); !bytes.Equal(b, []byte{2, 1, 0, 0, 0, 0, 0, 0}) {
		t.Errorf("layout: % x", b)
	}
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := 0; j < 500; j++ {
				a.AddLong(32, 1)
			}
		}()
	}
	wg.Wait()
	if v, _ := a.AddLong(32, 0); v != 4000 {
		t.Errorf("8 x 500 concurrent increments: %d", v)
	}
}

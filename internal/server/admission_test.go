package server

import "testing"

// The gate closes when Threads requests are ready or Threads connections are pending,
// says so once per closing, and opens again as they leave.
func TestGate(t *testing.T) {
	closings := 0
	g := newGate(2, func() { closings++ })
	g.requestIn()
	if g.isFull() {
		t.Fatal("full with one ready request of two")
	}
	g.requestIn()
	if !g.isFull() || closings != 1 {
		t.Fatalf("two ready requests of two: full %v, closings %d", g.isFull(), closings)
	}
	g.accepted() // already closed: no second call
	if closings != 1 {
		t.Fatalf("closings %d", closings)
	}
	passed := make(chan struct{})
	go func() { g.waitRoom(); close(passed) }()
	g.requestDone()
	if g.isFull() {
		t.Fatal("full with one ready request and one pending connection of two")
	}
	<-passed // woken by the room made
	g.add(0, 1)
	if !g.isFull() || closings != 2 {
		t.Fatalf("two pending connections of two: full %v, closings %d", g.isFull(), closings)
	}
	g.release()
	g.add(5, 5)
	g.waitRoom() // released: never waits
}

func TestBudget(t *testing.T) {
	b := budget{limit: 10}
	if !b.take(6) || b.take(5) || !b.take(4) {
		t.Fatal("6 then 5 (refused) then 4 of 10")
	}
	b.give(10)
	if b.used.Load() != 0 || !(&budget{}).take(1<<40) {
		t.Fatal("given back, or no limit")
	}
}

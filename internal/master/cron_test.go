package master

import (
	"strings"
	"testing"
	"time"
)

func TestCron(t *testing.T) {
	j, err := parseCron("-5 3 -1 -1 1  /usr/bin/backup  --full  'x y'")
	if err != nil {
		t.Fatal(err)
	}
	if j.command != "/usr/bin/backup  --full  'x y'" || j.fields != [5]int{-5, 3, -1, -1, 1} {
		t.Fatalf("parsed %+v", j)
	}
	monday := time.Date(2026, 11, 30, 3, 10, 0, 0, time.UTC) // a Monday
	for _, tc := range []struct {
		t    time.Time
		want bool
	}{
		{monday, true},
		{monday.Add(5 * time.Minute), true},
		{monday.Add(7 * time.Minute), false},   // not a multiple of 5
		{monday.Add(time.Hour), false},         // 4 o'clock
		{monday.Add(24 * time.Hour), false},    // Tuesday
		{monday.Add(7 * 24 * time.Hour), true}, // next Monday
	} {
		if got := j.due(tc.t); got != tc.want {
			t.Errorf("due(%v) = %v, want %v", tc.t, got, tc.want)
		}
	}
	for _, bad := range []string{"1 2 3 4 5", "x -1 -1 -1 -1 cmd", "-1 -1 -1 -1 cmd"} {
		if _, err := parseCron(bad); err == nil || !strings.Contains(err.Error(), "--cron") {
			t.Errorf("parseCron(%q) = %v, want an error naming --cron", bad, err)
		}
	}
}

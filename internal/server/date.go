package server

import (
	"net/http"
	"sync/atomic"
	"time"
)

// dateHeader is "Date: <IMF-fixdate>\r\n", formatted once a second instead of per response.
var dateHeader atomic.Pointer[[]byte]

func init() {
	refreshDate()
	go func() {
		for range time.Tick(time.Second) {
			refreshDate()
		}
	}()
}

func refreshDate() {
	b := []byte("Date: " + time.Now().UTC().Format(http.TimeFormat) + "\r\n")
	dateHeader.Store(&b)
}

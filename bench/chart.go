package main

import (
	"fmt"
	"image/color"
	"os"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

// One colour per server, in the order of servers.
var serverColors = []color.Color{
	color.RGBA{0x1f, 0x77, 0xb4, 0xff}, // uwsgo (PyPy 3.9)
	color.RGBA{0x17, 0xbe, 0xcf, 0xff}, // uwsgo (PyPy 3.11)
	color.RGBA{0x94, 0x67, 0xbd, 0xff}, // uWSGI + PyPy
	color.RGBA{0x7f, 0x7f, 0x7f, 0xff}, // bare Go
	color.RGBA{0xd6, 0x27, 0x28, 0xff}, // uWSGI + CPython
	color.RGBA{0x2c, 0xa0, 0x2c, 0xff}, // gunicorn
	color.RGBA{0xff, 0x7f, 0x0e, 0xff}, // gunicorn PyPy
}

// writeChart draws one panel per app: median req/s, a group of bars per (workers,
// connection mode), one bar per server.
func writeChart(path string, h *harness, sums map[key]*summary) error {
	type cfgKey struct {
		workers int
		mode    string
	}
	var cfgs []cfgKey
	for _, w := range h.cfg.Workers {
		for _, m := range h.cfg.Modes {
			cfgs = append(cfgs, cfgKey{w, m})
		}
	}
	var panels []*plot.Plot
	for _, an := range h.cfg.Apps {
		// only the configurations this app ran
		var used []cfgKey
		for _, ck := range cfgs {
			for _, sn := range h.cfg.Servers {
				if sums[key{sn, an, ck.workers, ck.mode}] != nil {
					used = append(used, ck)
					break
				}
			}
		}
		if len(used) == 0 {
			continue
		}
		p := plot.New()
		p.Title.Text = appByName(an).Label
		p.Title.TextStyle.Font.Size = vg.Points(11)
		p.Y.Label.Text = "req/s (median)"
		p.Y.Min = 0
		p.Legend.Top = true
		p.Legend.TextStyle.Font.Size = vg.Points(8)
		grid := plotter.NewGrid()
		grid.Vertical.Color = nil
		p.Add(grid)
		n := len(h.cfg.Servers)
		top := 0.0
		width := vg.Points(float64(min(18, 150/max(1, n*len(used)/2+1))))
		var names []string
		for _, ck := range used {
			conn := "keep-alive"
			if ck.mode == "close" {
				conn = "Connection: close"
			}
			names = append(names, fmt.Sprintf("%d worker(s), %s", ck.workers, conn))
		}
		for i, sn := range h.cfg.Servers {
			vals := make(plotter.Values, len(used))
			anyVal := false
			for j, ck := range used {
				if s := sums[key{sn, an, ck.workers, ck.mode}]; s != nil {
					vals[j] = s.rps
					top = max(top, s.rps)
					anyVal = true
				}
			}
			if !anyVal {
				continue
			}
			bars, err := plotter.NewBarChart(vals, width)
			if err != nil {
				return err
			}
			idx := 0
			for k, s := range servers {
				if s.Name == sn {
					idx = k
				}
			}
			bars.Color = serverColors[idx%len(serverColors)]
			bars.LineStyle.Width = 0
			bars.Offset = vg.Length(float64(i)-float64(n-1)/2) * width
			p.Add(bars)
			p.Legend.Add(serverLabel(sn), bars)
			if labels, err := barLabels(vals, bars.Offset); err == nil {
				p.Add(labels)
			}
		}
		p.NominalX(names...)
		p.X.Tick.Label.Font.Size = vg.Points(8)
		p.Y.Max = 1.3 * top // room for the legend
		p.Y.Tick.Marker = plot.TickerFunc(func(lo, hi float64) []plot.Tick {
			ts := plot.DefaultTicks{}.Ticks(lo, hi)
			for i := range ts {
				if ts[i].Label != "" {
					ts[i].Label = short(ts[i].Value)
				}
			}
			return ts
		})
		panels = append(panels, p)
	}
	if len(panels) == 0 {
		return nil
	}
	cols := min(2, len(panels))
	rows := (len(panels) + cols - 1) / cols
	tiled := make([][]*plot.Plot, rows)
	for r := range tiled {
		tiled[r] = make([]*plot.Plot, cols)
		for c := range cols {
			if i := r*cols + c; i < len(panels) {
				tiled[r][c] = panels[i]
			}
		}
	}
	img := vgimg.New(vg.Points(float64(480*cols)), vg.Points(float64(340*rows+30)))
	dc := draw.New(img)
	dc.SetColor(color.White)
	dc.Fill(dc.Rectangle.Path())
	title := fmt.Sprintf("uwsgo benchmarks, %s UTC (%s configuration, load average %s)", h.res.Started.UTC().Format("2006-01-02 15:04"), h.res.Mode, h.res.LoadStart)
	sty := draw.TextStyle{Color: color.Black, Font: font.From(plot.DefaultFont, vg.Points(12)), XAlign: draw.XCenter, YAlign: draw.YTop, Handler: plot.DefaultTextHandler}
	dc.FillText(sty, vg.Point{X: dc.Rectangle.Max.X / 2, Y: dc.Rectangle.Max.Y - vg.Points(6)}, title)
	body := draw.Crop(dc, 0, 0, 0, -vg.Points(30))
	tiles := draw.Tiles{Rows: rows, Cols: cols, PadX: vg.Points(12), PadY: vg.Points(12), PadTop: vg.Points(4), PadBottom: vg.Points(6), PadLeft: vg.Points(6), PadRight: vg.Points(6)}
	canvases := plot.Align(tiled, tiles, body)
	for r := range tiled {
		for c := range tiled[r] {
			if tiled[r][c] != nil {
				tiled[r][c].Draw(canvases[r][c])
			}
		}
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := (vgimg.PngCanvas{Canvas: img}).WriteTo(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// barLabels writes each bar's value above it.
func barLabels(vals plotter.Values, offset vg.Length) (*plotter.Labels, error) {
	var xys plotter.XYLabels
	for j, v := range vals {
		if v <= 0 {
			continue
		}
		xys.XYs = append(xys.XYs, plotter.XY{X: float64(j), Y: v})
		xys.Labels = append(xys.Labels, short(v))
	}
	l, err := plotter.NewLabels(xys)
	if err != nil {
		return nil, err
	}
	for i := range l.TextStyle {
		l.TextStyle[i].Font.Size = vg.Points(6.5)
		l.TextStyle[i].XAlign = draw.XCenter
	}
	l.Offset = vg.Point{X: offset, Y: vg.Points(2)}
	return l, nil
}

// short writes a req/s value compactly: 935, 9.2k, 59k.
func short(v float64) string {
	switch {
	case v >= 20000:
		return fmt.Sprintf("%.0fk", v/1000)
	case v >= 1000:
		return strings.TrimSuffix(fmt.Sprintf("%.1f", v/1000), ".0") + "k"
	}
	return fmt.Sprintf("%.0f", v)
}

module uwsgo

go 1.24

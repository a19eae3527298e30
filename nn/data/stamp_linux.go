package data

import "syscall"

func ctimeNanos(s *syscall.Stat_t) int64 { return s.Ctim.Nano() }

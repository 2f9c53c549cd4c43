package options

import "strings"

// suggest returns the option name or alias closest to an unknown name, or
// "" when nothing is close enough to be a plausible typo. A wrong guess is
// worse than none, so the allowed distance grows slowly with the length.
func suggest(name string) string {
	name = strings.ToLower(name)
	limit := len(name) / 3
	if limit < 1 {
		limit = 1
	}
	if limit > 3 {
		limit = 3
	}
	best, bestDist := "", limit+1
	consider := func(candidate string) {
		if d := editDistance(name, candidate); d < bestDist {
			best, bestDist = candidate, d
		}
	}
	for i := range Table {
		consider(Table[i].Name)
		for _, a := range Table[i].Aliases {
			consider(a)
		}
	}
	return best
}

// editDistance counts the single-character insertions, deletions,
// substitutions and swaps of neighbours turning a into b. Swaps count once
// because "trheads" is one slip of the fingers, not two.
func editDistance(a, b string) int {
	// Three rows are enough: a swap looks back two rows.
	prev2 := make([]int, len(b)+1)
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(b)]
}

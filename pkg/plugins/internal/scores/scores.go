// Package scores holds the score normalisations our plugins share.
package scores

import fwk "k8s.io/kube-scheduler/framework"

// ScaleToMax maps raw scores linearly onto [0, MaxNodeScore] so that the highest
// raw score gets MaxNodeScore. With reverse, fewer is better: the lowest raw score
// gets MaxNodeScore. When every raw score is zero there is nothing to prefer;
// reverse then gives every node the maximum, and the plain form leaves zeros.
// Integer division matches the rounding of the in-tree plugins exactly.
func ScaleToMax(list fwk.NodeScoreList, reverse bool) {
	var highest int64
	for i := range list {
		highest = max(highest, list[i].Score)
	}
	for i := range list {
		s := int64(0)
		if highest > 0 {
			s = fwk.MaxNodeScore * list[i].Score / highest
		}
		if reverse {
			s = fwk.MaxNodeScore - s
		}
		list[i].Score = s
	}
}

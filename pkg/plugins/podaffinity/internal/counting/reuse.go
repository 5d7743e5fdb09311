package counting

import (
	v1 "k8s.io/api/core/v1"
	fwk "k8s.io/kube-scheduler/framework"
)

// podShares records where one pod's shares sit in its node's shares.
type podShares struct {
	info     fwk.PodInfo
	pod      *v1.Pod
	from, to int32
}

// recount computes node ni's shares, reusing from old (the node's slot at
// its last count) the shares of every pod that is still there. A node that
// changed usually gained or lost one pod, and walking its other pods' terms
// again was most of a cycle's work on crowded nodes. A pod's shares are a
// function of the query, the PodInfo (the scheduler cache makes a new one for
// every pod change) and the node's labels (a new Node object for every node
// change), so reuse requires the same PodInfo, Pod and Node objects.
func (c Rule) recount(ni fwk.NodeInfo, old *slot) ([]share, []podShares, int) {
	node := ni.Node()
	pods := c.pods(ni)
	var out []share
	memo := make([]podShares, 0, len(pods))
	var byInfo map[fwk.PodInfo]int
	reused := 0
	for k, p := range pods {
		from := int32(len(out))
		j := -1
		if old.node == node && node != nil {
			j, byInfo = old.find(p, k, byInfo)
		}
		if j >= 0 && old.pods[j].pod == p.GetPod() {
			out = append(out, old.shares[old.pods[j].from:old.pods[j].to]...)
			reused++
		} else {
			out = c.pod(p, node, out)
		}
		memo = append(memo, podShares{info: p, pod: p.GetPod(), from: from, to: int32(len(out))})
	}
	return out, memo, reused
}

// find returns the position of p among the slot's pods, trying the position
// it has now (pods keep their order) before a map built on first need.
func (s *slot) find(p fwk.PodInfo, at int, byInfo map[fwk.PodInfo]int) (int, map[fwk.PodInfo]int) {
	if at < len(s.pods) && s.pods[at].info == p {
		return at, byInfo
	}
	if byInfo == nil && at >= len(s.pods) {
		// Past the old list: usually the pod just added, which a scan rules
		// out without building the map.
		for j := range s.pods {
			if s.pods[j].info == p {
				return j, byInfo
			}
		}
		return -1, byInfo
	}
	if byInfo == nil {
		byInfo = make(map[fwk.PodInfo]int, len(s.pods))
		for j := range s.pods {
			byInfo[s.pods[j].info] = j
		}
	}
	if j, ok := byInfo[p]; ok {
		return j, byInfo
	}
	return -1, byInfo
}

/*
Copyright 2026 The authstack Authors.

Licensed under the Apache License, Version 2.0 (the "License");
you may not use this file except in compliance with the License.
You may obtain a copy of the License at

    http://www.apache.org/licenses/LICENSE-2.0

Unless required by applicable law or agreed to in writing, software
distributed under the License is distributed on an "AS IS" BASIS,
WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
See the License for the specific language governing permissions and
limitations under the License.
*/

package credentials

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/authstack/authstack/api/v1alpha1"
)

// stateCollector reports AuthUsers and AuthClients by the state of their
// Ready condition, counted from the manager's cache when scraped.
type stateCollector struct {
	cache client.Reader
	users *prometheus.Desc
	apps  *prometheus.Desc
}

// NewStateCollector returns the collector of authstack_authusers and
// authstack_authclients, reading objects from c (the manager's cache).
func NewStateCollector(c client.Reader) prometheus.Collector {
	return &stateCollector{
		cache: c,
		users: prometheus.NewDesc("authstack_authusers", "AuthUsers by Ready status and reason.", []string{"ready", "reason"}, nil),
		apps:  prometheus.NewDesc("authstack_authclients", "AuthClients by Ready status and reason.", []string{"ready", "reason"}, nil),
	}
}

func (c *stateCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.users
	ch <- c.apps
}

func (c *stateCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var users v1alpha1.AuthUserList
	if err := c.cache.List(ctx, &users); err == nil {
		counts := map[[2]string]int{}
		for _, u := range users.Items {
			counts[state(u.Status.Conditions)]++
		}
		emit(ch, c.users, counts)
	}
	var apps v1alpha1.AuthClientList
	if err := c.cache.List(ctx, &apps); err == nil {
		counts := map[[2]string]int{}
		for _, a := range apps.Items {
			counts[state(a.Status.Conditions)]++
		}
		emit(ch, c.apps, counts)
	}
}

// state is the (status, reason) of Ready; ("Unknown", "") before the first
// reconcile.
func state(conds []metav1.Condition) [2]string {
	if c := meta.FindStatusCondition(conds, v1alpha1.ConditionTypeReady); c != nil {
		return [2]string{string(c.Status), c.Reason}
	}
	return [2]string{"Unknown", ""}
}

func emit(ch chan<- prometheus.Metric, d *prometheus.Desc, counts map[[2]string]int) {
	for k, n := range counts {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, float64(n), k[0], k[1])
	}
}

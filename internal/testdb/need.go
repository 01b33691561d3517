package testdb

import (
	"os"
	"testing"
)

// Need is for a test that needs something installed (a client, a browser, a file beside the
// checkout): err says whether it is missing. A missing thing skips the test on a developer
// machine and fails it in CI (CI=true), where .ci/run installs everything.
func Need(t testing.TB, what string, err error) {
	t.Helper()
	if err == nil {
		return
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s is required under CI=true (.ci/run installs it): %v", what, err)
	}
	t.Skipf("SKIPPED: %s is not available (%v); install it to run this test", what, err)
}

package app

import "net/http"

// mountInteract adds Slack's endpoints.
func (a *App) mountInteract(mux *http.ServeMux) {}

package view

import "charm.land/bubbles/v2/key"

// keyMap is every key the viewer takes; the help overlay lists them all,
// in this order.
type keyMap struct {
	Left, Right, Up, Down    key.Binding
	PanLeft, PanRight        key.Binding
	ZoomIn, ZoomOut, ZoomAll key.Binding
	PageUp, PageDown         key.Binding
	Toggle, Detail           key.Binding
	NextEvent, PrevEvent     key.Binding
	Unblocker, Creator       key.Binding
	Goto, Search             key.Binding
	NextMatch, PrevMatch     key.Binding
	Tasks, SlowestOfType     key.Binding
	Stats, Help, Close, Quit key.Binding
}

var keys = keyMap{
	Left:          key.NewBinding(key.WithKeys("left"), key.WithHelp("←", "move the cursor left")),
	Right:         key.NewBinding(key.WithKeys("right"), key.WithHelp("→", "move the cursor right")),
	Up:            key.NewBinding(key.WithKeys("up", "k"), key.WithHelp("↑/k", "select the lane above (the task above in the tasks pane)")),
	Down:          key.NewBinding(key.WithKeys("down", "j"), key.WithHelp("↓/j", "select the lane below (the task below in the tasks pane)")),
	PanLeft:       key.NewBinding(key.WithKeys("h", "shift+left"), key.WithHelp("h/shift+←", "pan left a quarter of the window")),
	PanRight:      key.NewBinding(key.WithKeys("l", "shift+right"), key.WithHelp("l/shift+→", "pan right a quarter of the window")),
	ZoomIn:        key.NewBinding(key.WithKeys("+", "=", "i"), key.WithHelp("+/i", "zoom in at the cursor (mouse wheel up: at the pointer)")),
	ZoomOut:       key.NewBinding(key.WithKeys("-", "o"), key.WithHelp("-/o", "zoom out (mouse wheel down)")),
	ZoomAll:       key.NewBinding(key.WithKeys("0", "home"), key.WithHelp("0/home", "show the whole trace")),
	PageUp:        key.NewBinding(key.WithKeys("pgup"), key.WithHelp("pgup", "scroll the lanes up a page")),
	PageDown:      key.NewBinding(key.WithKeys("pgdown"), key.WithHelp("pgdown", "scroll the lanes down a page")),
	Toggle:        key.NewBinding(key.WithKeys("enter", "space"), key.WithHelp("enter/space", "open or close a group; on a goroutine, its detail")),
	Detail:        key.NewBinding(key.WithKeys("d"), key.WithHelp("d", "show or hide the detail pane")),
	NextEvent:     key.NewBinding(key.WithKeys("]"), key.WithHelp("]", "cursor to the next change on the selected lane")),
	PrevEvent:     key.NewBinding(key.WithKeys("["), key.WithHelp("[", "cursor to the previous change on the selected lane")),
	Unblocker:     key.NewBinding(key.WithKeys("u"), key.WithHelp("u", "jump to the goroutine that ended the wait under the cursor")),
	Creator:       key.NewBinding(key.WithKeys("c"), key.WithHelp("c", "jump to the selected goroutine's creator")),
	Goto:          key.NewBinding(key.WithKeys("g"), key.WithHelp("g", "go to a time (from the trace's start, e.g. 1.5ms)")),
	Search:        key.NewBinding(key.WithKeys("/"), key.WithHelp("/", "search goroutines by name, ID or stack frame")),
	NextMatch:     key.NewBinding(key.WithKeys("n"), key.WithHelp("n", "next search match")),
	PrevMatch:     key.NewBinding(key.WithKeys("N"), key.WithHelp("N", "previous search match")),
	Tasks:         key.NewBinding(key.WithKeys("t"), key.WithHelp("t", "tasks pane: task instances, slowest first; enter: one, its critical path")),
	SlowestOfType: key.NewBinding(key.WithKeys("y"), key.WithHelp("y", "in the tasks pane: the slowest task of the selected one's type")),
	Stats:         key.NewBinding(key.WithKeys("s"), key.WithHelp("s", "stats pane: the window on screen, gotrace stats's findings")),
	Help:          key.NewBinding(key.WithKeys("?"), key.WithHelp("?", "show or hide this help")),
	Close:         key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "close the pane, prompt or help")),
	Quit:          key.NewBinding(key.WithKeys("q", "ctrl+c"), key.WithHelp("q/ctrl+c", "quit")),
}

func (k keyMap) all() []key.Binding {
	return []key.Binding{
		k.Left, k.Right, k.Up, k.Down, k.PanLeft, k.PanRight,
		k.ZoomIn, k.ZoomOut, k.ZoomAll, k.PageUp, k.PageDown,
		k.Toggle, k.Detail, k.NextEvent, k.PrevEvent, k.Unblocker, k.Creator,
		k.Goto, k.Search, k.NextMatch, k.PrevMatch,
		k.Tasks, k.SlowestOfType, k.Stats, k.Help, k.Close, k.Quit,
	}
}

package render

// Block Kit limits, from Slack's Block Kit reference (blocks, block elements
// and composition objects). Slack counts characters, so every limit here is
// in runes. A message that breaks one is rejected with invalid_blocks.
const (
	maxBlocks          = 50   // blocks per message (modals and App Home allow 100)
	maxHeaderText      = 150  // header block: plain_text only
	maxSectionText     = 3000 // section text; also any text object
	maxSectionFields   = 10   // section fields
	maxFieldText       = 2000 // each section field
	maxContextElements = 10   // context block elements
	maxActionElements  = 25   // actions block elements
	maxID              = 255  // block_id and action_id
	maxButtonText      = 75
	maxButtonValue     = 2000
	maxButtonURL       = 3000
	maxConfirmTitle    = 100
	maxConfirmText     = 300
	maxConfirmButton   = 30 // confirm and deny labels
	maxOptionText      = 75
	// maxOptionValue is 75 although Slack now documents 150: older
	// documentation said 75 and staying below both is safe.
	maxOptionValue     = 75
	maxSelectOptions   = 100 // static_select options (or option groups)
	maxPlaceholder     = 150
	minOverflowOptions = 2
	maxOverflowOptions = 5
	maxTextObject      = 3000 // any text object not covered by a smaller limit
	// maxText bounds the top-level text fallback. Slack truncates it past
	// 40000 characters; notifications show far less, so keep it short.
	maxText = 4000
	// maxBlockText bounds the text of all blocks together. Slack answers
	// msg_blocks_too_long past an undocumented threshold, observed near 13000
	// characters; staying at 12000 leaves a margin.
	maxBlockText = 12000
)

package model

// Transcript is one call's or voicemail's transcript. It is call content:
// only orgs that opted in to transcripts (Call Quality) ever fetch one.
type Transcript struct {
	// CallID is the provider call id (Aircall: decimal).
	CallID string
	// Type is "call" or "voicemail".
	Type string
	// Language is the detected language, e.g. "en-US".
	Language string
	// Utterances are the speaker turns in order.
	Utterances []Utterance
}

// Utterance is one speaker turn.
type Utterance struct {
	// Index is the position in the transcript, from 0.
	Index int
	// StartTime is seconds from the start of the recording.
	StartTime float64
	// EndTime is seconds from the start of the recording.
	EndTime float64
	// Speaker is "internal" (the company's user) or "external".
	Speaker string
	// Text is what was said.
	Text string
}

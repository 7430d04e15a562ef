// Slack parses `<...>` in message text as links, user/channel mentions and `<!channel>`
// broadcasts, and `&` starts an entity. Escaping exactly these three (Slack's documented control
// characters) makes alert-provided text inert: a label cannot add a link or ping anyone.
// https://docs.slack.dev/messaging/formatting-message-text#escaping
export function escapeMrkdwn(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** Inline code span for alert text: backticks would end the span early, so they are dropped. */
export function codeSpan(text: string): string {
  const inner = escapeMrkdwn(text.replace(/`/g, "'"));
  return inner === '' ? '` `' : `\`${inner}\``;
}

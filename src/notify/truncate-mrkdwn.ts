// Cuts already-escaped mrkdwn to Slack's length limits without leaving half an entity (`&am`),
// half of one of our own `<url|label>` links, an open code block, or half a surrogate pair.
const ELLIPSIS = '…';
const FENCE = '```';

export function truncateMrkdwn(text: string, max: number): string {
  if (text.length <= max) return text;
  // Room for the ellipsis and, if needed, a closing fence.
  let cut = text.slice(0, Math.max(0, max - ELLIPSIS.length - FENCE.length - 1));
  // An entity is at most `&amp;` long: drop a trailing `&` that lost its `;`.
  cut = cut.replace(/&[a-z]{0,3}$/, '');
  // Alert text is escaped, so a raw `<` can only open one of our links: never leave one open.
  const open = cut.lastIndexOf('<');
  if (open > cut.lastIndexOf('>')) cut = cut.slice(0, open);
  const last = cut.charCodeAt(cut.length - 1);
  if (last >= 0xd800 && last <= 0xdbff) cut = cut.slice(0, -1);
  cut = cut.replace(/`+$/, '');
  const fences = cut.split(FENCE).length - 1;
  return fences % 2 === 1 ? `${cut}${ELLIPSIS}\n${FENCE}` : cut + ELLIPSIS;
}

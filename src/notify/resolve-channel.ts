/**
 * Which channel a message goes to: the rule's own channel, else the namespace's, else the
 * configured default; undefined leaves it to the webhook (an app webhook posts to the channel it
 * was created for and ignores overrides).
 */
export function resolveChannel(options: {
  explicit?: string | undefined;
  namespace?: string | undefined;
  namespaceChannels?: Record<string, string> | undefined;
  fallback?: string | undefined;
}): string | undefined {
  const { explicit, namespace, namespaceChannels, fallback } = options;
  if (explicit) return explicit;
  if (namespace !== undefined && namespaceChannels && Object.hasOwn(namespaceChannels, namespace)) {
    const channel = namespaceChannels[namespace];
    if (channel) return channel;
  }
  return fallback || undefined;
}

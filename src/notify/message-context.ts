/** What the builders need besides the job: where the controller's API is reachable. */
export interface MessageContext {
  /** External base URL of the controller, for the approve command. */
  baseUrl?: string;
  /** The cluster this controller serves: one channel often hears from several controllers. */
  cluster?: string;
  /** The API server and kubeconfig context the controller patches through. */
  kube?: { server: string; context: string };
}

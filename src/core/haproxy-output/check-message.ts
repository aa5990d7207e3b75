/** A complaint of haproxy -c: the config line it names, when it names one. */
export interface CheckMessageLike {
  line?: number;
  message: string;
}

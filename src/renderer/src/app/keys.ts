/** In a textarea, Enter makes a new line; Ctrl+Enter submits the form it is in. */
export function submitOnCtrlEnter(e: React.KeyboardEvent<HTMLTextAreaElement>): void {
  if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) {
    e.preventDefault();
    e.currentTarget.form?.requestSubmit();
  }
}

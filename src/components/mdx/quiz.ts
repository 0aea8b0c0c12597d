// <Quiz>: feedback as soon as an option is chosen, announced through the status region.

export function attachQuiz(quiz: HTMLFieldSetElement): void {
  const answer = Number(quiz.dataset.answer);
  const feedback = quiz.querySelector<HTMLElement>('[data-quiz-feedback]');
  const explanation = quiz.querySelector<HTMLElement>('[data-quiz-explanation]');
  const inputs = [...quiz.querySelectorAll<HTMLInputElement>('input[type="radio"]')];
  if (!feedback) return;

  for (const input of inputs) {
    input.addEventListener('change', () => {
      const right = Number(input.value) === answer;
      for (const other of inputs) other.closest('label')?.removeAttribute('data-verdict');
      input.closest('label')?.setAttribute('data-verdict', right ? 'right' : 'wrong');
      feedback.dataset.verdict = right ? 'right' : 'wrong';
      feedback.textContent = right ? 'Correct.' : 'Not quite. Try another answer.';
      if (explanation) {
        explanation.hidden = !right;
        if (right) feedback.textContent = `Correct. ${explanation.textContent ?? ''}`;
      }
    });
  }
}

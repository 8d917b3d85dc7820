' EventHandlers.vbs - tag messages with spam words in the subject and score them
Option Explicit

Const SPAM_THRESHOLD = 5
Const TAG = "[SPAM]"

Dim aSpamWords
aSpamWords = Array("viagra", "casino", "lottery", "winner", "bitcoin")

Sub OnAcceptMessage(oClient, oMessage)
   Dim sSubject, iScore, i, sWord
   On Error Resume Next
   sSubject = LCase(oMessage.Subject)
   iScore = 0
   For i = LBound(aSpamWords) To UBound(aSpamWords)
      sWord = aSpamWords(i)
      If InStr(1, sSubject, sWord, vbTextCompare) > 0 Then iScore = iScore + 3
   Next
   If oMessage.HeaderValue("X-Spam-Flag") = "YES" Then iScore = iScore + 5
   If Not IsEmpty(oMessage.HeaderValue("List-Id")) And oMessage.HeaderValue("List-Id") <> "" Then iScore = iScore - 2
   oMessage.HeaderValue("X-Script-Score") = CStr(iScore)
   If iScore >= SPAM_THRESHOLD Then
      If Left(oMessage.Subject, Len(TAG)) <> TAG Then
         oMessage.Subject = TAG & " " & oMessage.Subject
      End If
      oMessage.HeaderValue("X-Spam-Status") = "Yes, score=" & iScore
      oMessage.Save
      EventLog.Write "Tagged message from " & oMessage.From & " (score " & iScore & ")"
   End If
End Sub

Sub OnDeliveryStart(oMessage)
End Sub

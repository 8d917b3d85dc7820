' Auto-ban: count failed logons per IP, ban after too many within a window
Option Explicit

Const MAX_FAILURES = 3
Const WINDOW_MINUTES = 10

Dim oFailures   ' IP -> "count|first time"
Set oFailures = CreateObject("Scripting.Dictionary")

Function IsPrivateIP(sIP)
   Dim aParts
   IsPrivateIP = False
   aParts = Split(sIP, ".")
   If UBound(aParts) <> 3 Then Exit Function
   If aParts(0) = "10" Or aParts(0) = "127" Then IsPrivateIP = True
   If aParts(0) = "192" And aParts(1) = "168" Then IsPrivateIP = True
   If aParts(0) = "172" And CInt(aParts(1)) >= 16 And CInt(aParts(1)) <= 31 Then IsPrivateIP = True
End Function

Sub RecordFailure(sIP)
   Dim aEntry, iCount, dFirst
   If oFailures.Exists(sIP) Then
      aEntry = Split(oFailures(sIP), "|")
      iCount = CInt(aEntry(0)) + 1
      dFirst = CDate(aEntry(1))
      If DateDiff("n", dFirst, Now) > WINDOW_MINUTES Then
         iCount = 1
         dFirst = Now
      End If
   Else
      iCount = 1
      dFirst = Now
   End If
   oFailures(sIP) = iCount & "|" & dFirst
End Sub

Sub OnClientLogon(oClient)
   Dim sIP, iCount
   If oClient.Authenticated Then Exit Sub
   sIP = oClient.IPAddress
   If IsPrivateIP(sIP) Then Exit Sub
   RecordFailure sIP
   iCount = CInt(Split(oFailures(sIP), "|")(0))
   If iCount >= MAX_FAILURES Then
      Call BanIP(sIP, iCount)
      Result.Value = 2
      Result.Message = "Too many failed logons"
   End If
End Sub

Sub BanIP(ByVal sIP, ByVal iCount)
   Dim sName
   sName = "Auto-ban " & sIP & " (" & iCount & " failures) " & Year(Now) & "-" & Right("0" & Month(Now), 2)
   EventLog.Write "Banning " & sIP & ": " & sName
   oApp.Settings.SecurityRanges.Add sName, sIP, DateAdd("h", 24, Now)
End Sub
